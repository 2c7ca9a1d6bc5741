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
