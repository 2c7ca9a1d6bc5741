/**
 * Where a channel goes: a Unix socket path or a TCP host and port, and how
 * messages name it.
 *
 * @module
 */

/** The kind of connection, for defaults and messages. */
export type TransportKind = "unix" | "tcp" | "tls";

/** Where a channel goes, as `listenIpc()` and `connectIpc()` both need it. */
export interface ChannelAddress {
  /** The transport: a Unix socket, plain TCP or TLS. */
  kind: TransportKind;
  /** The TCP host (the loopback address unless given). */
  hostname: string;
  /** The address as error messages name it: the path, or `host:port`. */
  name: string;
}

/** The address of the options of `listenIpc()` or `connectIpc()`. */
export function channelAddress(
  options: { path?: string; hostname?: string; port?: number; tls?: unknown },
): ChannelAddress {
  const hostname = options.hostname ?? "127.0.0.1";
  if (options.path !== undefined) {
    return { kind: "unix", hostname, name: options.path };
  }
  return {
    kind: options.tls !== undefined ? "tls" : "tcp",
    hostname,
    name: describeNetAddr(hostname, options.port ?? 0),
  };
}

/** How to name a TCP address in messages: `host:port`, IPv6 in brackets. */
export function describeNetAddr(hostname: string, port: number): string {
  return hostname.includes(":")
    ? `[${hostname}]:${port}`
    : `${hostname}:${port}`;
}

/**
 * What a listener counts a client's handshakes under: its IPv4 address
 * (also when it comes as `::ffff:a.b.c.d`), or the /64 prefix of its IPv6
 * address (one host often holds a whole /64). `undefined` for loopback
 * addresses, which every local client shares.
 */
export function clientAddressKey(hostname: string): string | undefined {
  const v4 = hostname.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
  if (!v4.includes(":")) return v4.startsWith("127.") ? undefined : v4;
  const groups = expandIpv6(v4.replace(/%.*$/, ""));
  if (groups === undefined) return v4;
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) {
    return undefined;
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, or `undefined`. */
function expandIpv6(address: string): number[] | undefined {
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) =>
    part === "" ? [] : part.split(":").map((g) => parseInt(g, 16));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...head, ...new Array(missing).fill(0), ...tail];
  return groups.some((g) => !(g >= 0 && g <= 0xffff)) ? undefined : groups;
}
