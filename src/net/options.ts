/**
 * Options shared by {@linkcode listenIpc} and {@linkcode connectIpc}, their
 * defaults and their checks; where a channel goes (a Unix socket path or a
 * TCP host and port) and how messages name it.
 *
 * @module
 */

import {
  channelOptionsOf,
  checkStreamOptions,
  DEFAULT_MAX_MESSAGE_BYTES,
  type IpcJsonStreamOptions,
} from "../channel/options.ts";
import { integerOption } from "../internal/check_option.ts";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, importAuthKey } from "./handshake.ts";

/**
 * Default `maxMessageBytes` of channels over TCP and TLS: 4 MiB (as gRPC's
 * default receive limit), since any host that can reach the port may try to
 * make the server buffer a message. Unix socket channels keep the
 * `IpcJsonStream` default (128 MiB): only their owner can reach them.
 */
export const DEFAULT_NETWORK_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * Default `maxConnections` of a listener: 128 channels at once (connections
 * in their handshake have their own limit, `maxPendingHandshakes`).
 */
export const DEFAULT_MAX_CONNECTIONS = 128;

/**
 * Default `maxPendingHandshakes` of a listener: 64 connections in their
 * handshake at once; past it, the one that has waited longest is dropped.
 */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 64;

/**
 * Default `maxPendingHandshakesPerAddress` of a TCP or TLS listener: 16
 * connections in their handshake at once from one IPv4 address or IPv6 /64.
 */
export const DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS = 16;

/**
 * How a channel is authenticated: the options of {@linkcode listenIpc} and
 * {@linkcode connectIpc} about the shared key and the handshake.
 *
 * @example A key read from a file only the two sides can read
 * ```ts
 * import type { IpcAuthOptions } from "@tether/ipc";
 *
 * const auth: IpcAuthOptions = {
 *   authKey: crypto.getRandomValues(new Uint8Array(32)), // in practice: Deno.readFileSync(keyFile)
 *   handshakeTimeout: 10_000,
 * };
 * ```
 */
export interface IpcAuthOptions {
  /**
   * The shared secret both sides must hold, at least 16 bytes (a string is
   * taken as its UTF-8 bytes). Use 32 random bytes, e.g. from
   * `crypto.getRandomValues(new Uint8Array(32))`, stored where only the two
   * sides can read it. With a key, both sides prove that they know it
   * (HMAC-SHA256 challenge-response with fresh nonces) before any message is
   * accepted.
   *
   * Required over TCP and TLS unless `insecure` is `true`; optional on a
   * Unix socket, which the file system already protects.
   */
  authKey?: string | Uint8Array;
  /**
   * Allows TCP without `authKey`: a listener then accepts anyone who can
   * reach its port, and a client (without TLS) talks to whoever answers on
   * it. Only for trusted networks.
   *
   * @default {false}
   */
  insecure?: boolean;
  /**
   * Milliseconds the opening handshake (TLS and authentication) may take
   * before the connection is closed with an
   * {@linkcode IpcHandshakeError} (`reason` `"timeout"`); for a client, also the limit for
   * the connection attempt. It bounds how long a stalled peer holds a
   * connection slot.
   *
   * @default {5000}
   */
  handshakeTimeout?: number;
}

/**
 * The certificate a TLS listener presents.
 *
 * @example
 * ```ts ignore
 * import { listenIpc } from "@tether/ipc";
 *
 * const listener = await listenIpc({
 *   port: 7000,
 *   tls: { cert: Deno.readTextFileSync("cert.pem"), key: Deno.readTextFileSync("key.pem") },
 *   authKey: Deno.readFileSync("ipc.key"),
 * });
 * ```
 */
export interface IpcTlsServerOptions {
  /** The certificate chain, PEM encoded. */
  cert: string;
  /** The certificate's private key, PEM encoded. */
  key: string;
}

/**
 * How a TLS client checks the server's certificate.
 *
 * @example Trust a self-signed certificate issued for another name
 * ```ts ignore
 * import { connectIpc } from "@tether/ipc";
 *
 * const server = await connectIpc({
 *   hostname: "192.0.2.10",
 *   port: 7000,
 *   tls: { caCerts: [Deno.readTextFileSync("cert.pem")], serverName: "daemon.internal" },
 *   authKey: Deno.readFileSync("ipc.key"),
 * });
 * ```
 */
export interface IpcTlsClientOptions {
  /**
   * Certificates to trust, PEM encoded, besides the system's roots: e.g. a
   * self-signed server certificate, or the private CA that signed it.
   */
  caCerts?: string[];
  /**
   * The name the server's certificate must be issued for.
   *
   * @default {the `hostname` connected to}
   */
  serverName?: string;
}

/**
 * Imports `authKey`, or checks that going without one is allowed.
 *
 * @param keyRequired `true` where a missing key must be waived with
 *   `insecure: true`.
 * @param refusal What to say when it is not waived.
 */
export async function resolveAuthKey(
  options: IpcAuthOptions,
  keyRequired: boolean,
  refusal: string,
): Promise<CryptoKey | undefined> {
  if (options.authKey !== undefined) {
    return await importAuthKey(options.authKey);
  }
  if (keyRequired && options.insecure !== true) {
    throw new TypeError(refusal);
  }
  return undefined;
}

/** The `handshakeTimeout` option, checked. */
export function handshakeTimeoutOf(
  owner: string,
  options: IpcAuthOptions,
): number {
  return integerOption(
    owner,
    "handshakeTimeout",
    options.handshakeTimeout,
    DEFAULT_HANDSHAKE_TIMEOUT_MS,
  );
}

/**
 * The options for each channel's {@linkcode IpcJsonStream}: every option but
 * the network's own, checked before connecting, with the network default of
 * `maxMessageBytes` over TCP and TLS.
 */
export function streamOptionsOf<In>(
  options: IpcJsonStreamOptions<In>,
  kind: TransportKind,
): IpcJsonStreamOptions<In> {
  const streamOptions = channelOptionsOf(options);
  streamOptions.maxMessageBytes ??= kind === "unix"
    ? DEFAULT_MAX_MESSAGE_BYTES
    : DEFAULT_NETWORK_MAX_MESSAGE_BYTES;
  checkStreamOptions(streamOptions as IpcJsonStreamOptions<unknown>);
  return streamOptions;
}

/** The kind of connection, for defaults and messages. */
type TransportKind = "unix" | "tcp" | "tls";

/** Where a channel goes, as `listenIpc()` and `connectIpc()` both need it. */
interface ChannelAddress {
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
