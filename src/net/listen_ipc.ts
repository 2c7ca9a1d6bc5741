/**
 * {@linkcode listenIpc}: the server's side of channels between unrelated
 * processes, over a Unix socket, TCP or TLS.
 *
 * @module
 */

import type { IpcJsonStreamOptions } from "../channel/options.ts";
import { integerOption } from "../internal/check_option.ts";
import { channelAddress } from "./address.ts";
import { IpcAddressInUseError } from "./errors.ts";
import { heartbeatIntervalOf } from "./heartbeat.ts";
import type { IpcNetStream } from "./ipc_net_stream.ts";
import { Listener } from "./listener.ts";
import {
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_PENDING_HANDSHAKES,
  DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS,
  handshakeTimeoutOf,
  type IpcAuthOptions,
  type IpcTlsServerOptions,
  resolveAuthKey,
  streamOptionsOf,
} from "./options.ts";
import { listenUnixSocket } from "./unix_socket.ts";

/**
 * Options of {@linkcode listenIpc} common to every transport.
 *
 * @example Limits shared by a Unix and a TCP listener
 * ```ts
 * import type { ListenIpcCommonOptions, ListenIpcOptions } from "@tether/ipc";
 *
 * const common: ListenIpcCommonOptions = {
 *   authKey: "a shared secret of 16 bytes or more",
 *   maxConnections: 32,
 *   onError: (error) => console.warn(error.message),
 * };
 * const local: ListenIpcOptions = { ...common, path: "/run/user/1000/app/app.sock" };
 * const remote: ListenIpcOptions = { ...common, hostname: "0.0.0.0", port: 7000 };
 * ```
 */
export interface ListenIpcCommonOptions<In = unknown>
  extends IpcJsonStreamOptions<In>, IpcAuthOptions {
  /**
   * Most channels open at once. A client that connects while they are all
   * taken is told the server is busy (its `connectIpc()` rejects with
   * {@linkcode IpcConnectionRefusedError}, `busy: true`) and disconnected.
   * Connections still in their handshake do not count here, so stalled
   * ones cannot take these slots: they have `maxPendingHandshakes`.
   *
   * @default {128}
   */
  maxConnections?: number;
  /**
   * Most connections in their handshake at once (being told "busy"
   * included). When one more arrives, the one that has waited longest is
   * closed to make room and reported to `onError` as an
   * {@linkcode IpcHandshakeDroppedError}: so a flood of idle or slow
   * connections only ever evicts itself, and an honest client that arrives
   * during it completes its handshake in milliseconds and gets in. Raise it
   * if more clients than this connect in the same instant. The listener
   * holds at most `maxConnections + maxPendingHandshakes` sockets.
   *
   * @default {64}
   */
  maxPendingHandshakes?: number;
  /**
   * Over TCP and TLS, most connections in their handshake at once from one
   * IPv4 address or IPv6 /64 prefix; past it, that address's own oldest
   * handshake is dropped (an {@linkcode IpcHandshakeDroppedError}), so one
   * address cannot evict the handshakes of others. Loopback addresses are
   * not counted (every local client shares them): `maxPendingHandshakes`
   * bounds them.
   *
   * @default {16}
   */
  maxPendingHandshakesPerAddress?: number;
  /**
   * Called with what went wrong on a connection that never became a channel
   * (a failed or timed-out handshake, a refused client) or with a failed
   * `accept()`. The listener goes on serving either way. It must not throw
   * (what it throws is ignored).
   */
  onError?: (error: Error) => void;
  /**
   * Checks that each client is alive: when nothing arrived from it for
   * `interval` milliseconds, the listener pings it, and once it has answered
   * a ping, nothing at all for two intervals means it is gone (stopped,
   * hung, unreachable): its channel closes. A client that does not know the
   * heartbeat (an older version, another implementation) never answers and
   * is never dropped. Whatever this option, the listener answers its
   * clients' pings. See `docs/network.md#the-heartbeat`.
   *
   * @default {false}
   */
  heartbeat?: boolean | { interval?: number };
}

/**
 * {@linkcode listenIpc} on a Unix domain socket.
 *
 * @example
 * ```ts
 * import type { ListenIpcUnixOptions } from "@tether/ipc";
 *
 * const options: ListenIpcUnixOptions = { path: "/run/user/1000/app/app.sock" };
 * ```
 */
export interface ListenIpcUnixOptions<In = unknown>
  extends ListenIpcCommonOptions<In> {
  /**
   * Path of the socket. Its directory is created with mode 0700 when
   * missing, and must not be open to other users; the socket gets mode 0600.
   */
  path: string;
  /** Only for TCP. */
  hostname?: never;
  /** Only for TCP. */
  port?: never;
  /** Only for TCP. */
  tls?: never;
}

/**
 * {@linkcode listenIpc} on a TCP port, optionally with TLS.
 *
 * @example
 * ```ts
 * import type { ListenIpcTcpOptions } from "@tether/ipc";
 *
 * const options: ListenIpcTcpOptions = { port: 0, authKey: "a shared secret of 16 bytes or more" };
 * ```
 */
export interface ListenIpcTcpOptions<In = unknown>
  extends ListenIpcCommonOptions<In> {
  /**
   * The address to listen on. Use `"0.0.0.0"` (or `"::"`) to accept
   * connections from other machines.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The port; `0` picks a free one (read it from `addr`). */
  port: number;
  /** A certificate and key: connections are then TLS encrypted. */
  tls?: IpcTlsServerOptions;
  /** Only for Unix sockets. */
  path?: never;
}

/**
 * Options of {@linkcode listenIpc}: a Unix socket path, or a TCP port.
 *
 * @example
 * ```ts
 * import type { ListenIpcOptions } from "@tether/ipc";
 *
 * const options: ListenIpcOptions = Deno.build.os === "windows"
 *   ? { port: 7000, authKey: "a shared secret of 16 bytes or more" }
 *   : { path: "/run/user/1000/app/app.sock" };
 * ```
 */
export type ListenIpcOptions<In = unknown> =
  | ListenIpcUnixOptions<In>
  | ListenIpcTcpOptions<In>;

/**
 * A server that accepts channels: iterate it to get one
 * {@linkcode IpcNetStream} per client that completed the handshake.
 *
 * @typeParam In The type of the messages received from clients.
 * @typeParam Out The type of the messages sent to clients.
 *
 * @example Serve each client in its own task
 * ```ts ignore
 * import { listenIpc } from "@tether/ipc";
 *
 * await using listener = await listenIpc({ path: "/run/user/1000/app/app.sock" });
 * for await (const client of listener) {
 *   (async () => {
 *     for await (const message of client) await client.send({ echo: message });
 *   })().catch((error) => console.error("client failed:", error.message));
 * }
 * ```
 */
export interface IpcListener<In = unknown, Out = unknown>
  extends AsyncIterable<IpcNetStream<In, Out>>, AsyncDisposable {
  /** The address listened on; for TCP with `port: 0`, the port picked. */
  readonly addr: Deno.NetAddr | Deno.UnixAddr;
  /** Connections open now: channels not yet closed and handshakes in progress. */
  readonly connections: number;
  /**
   * Waits for the next client to complete the handshake.
   *
   * @returns The channel to the client.
   * @throws {IpcClosedError} When the listener is closed.
   */
  accept(): Promise<IpcNetStream<In, Out>>;
  /**
   * The channels, one per client that completed the handshake, in order.
   * Every call returns the same iterator; it ends when the listener closes.
   * Leaving a loop early does not close the listener.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<IpcNetStream<In, Out>>;
  /**
   * Stops accepting, cuts handshakes in progress, and closes every channel
   * (each writes what it queued first, for up to 3 s). A Unix socket file is
   * removed. Safe to call more than once.
   */
  close(): Promise<void>;
  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
  /** Keeps the process alive while listening (the default). */
  ref(): void;
  /** Lets the process exit while listening, unless something else keeps it. */
  unref(): void;
}

/**
 * Listens for channels from processes that did not spawn each other: on a
 * Unix domain socket (a daemon and its clients on one host) or a TCP port,
 * optionally with TLS (across machines).
 *
 * With `authKey`, every client must prove it knows the key, and the server
 * proves it back, before a single message is accepted; `docs/security.md`
 * says what each transport protects. TCP requires a key
 * unless `insecure: true`. Errors on one connection never stop the listener:
 * failed handshakes go to `onError`, failures after it to the channel's
 * iterator.
 *
 * Permissions: a Unix socket needs `--allow-read --allow-write` for its
 * directory and `--allow-net=unix:<path>`; TCP `--allow-net=<host>`; TLS
 * also `--allow-read` for certificate files you read.
 *
 * @typeParam In The type of the messages received from clients.
 * @typeParam Out The type of the messages sent to clients.
 * @param options Where to listen, the key, and the limits.
 * @returns The listener, already accepting.
 * @throws {IpcInsecureSetupError} TCP without `authKey` or `insecure`, a
 *   key under 16 bytes, or a socket directory open to other users.
 * @throws {IpcAddressInUseError} A live server has the path, or the port is
 *   taken.
 *
 * @example A daemon on a Unix socket
 * ```ts ignore
 * import { listenIpc } from "@tether/ipc";
 *
 * const authKey = Deno.readFileSync(`${Deno.env.get("HOME")}/.config/app/ipc.key`);
 * await using listener = await listenIpc<{ add: [number, number] }, { sum: number }>({
 *   path: `${Deno.env.get("XDG_RUNTIME_DIR")}/app/app.sock`,
 *   authKey,
 *   onError: (error) => console.warn("rejected a client:", error.message),
 * });
 * for await (const client of listener) {
 *   (async () => {
 *     for await (const { add: [a, b] } of client) await client.send({ sum: a + b });
 *   })().catch(() => {});
 * }
 * ```
 *
 * @example TCP with TLS
 * ```ts ignore
 * import { listenIpc } from "@tether/ipc";
 *
 * await using listener = await listenIpc({
 *   hostname: "0.0.0.0",
 *   port: 7000,
 *   tls: { cert: Deno.readTextFileSync("cert.pem"), key: Deno.readTextFileSync("key.pem") },
 *   authKey: Deno.readFileSync("ipc.key"),
 * });
 * ```
 */
export async function listenIpc<In = unknown, Out = unknown>(
  options: ListenIpcOptions<In>,
): Promise<IpcListener<In, Out>> {
  const { kind, hostname, name: where } = channelAddress(options);
  const key = await resolveAuthKey(
    options,
    kind !== "unix",
    `Refusing to listen on ${where} over ${kind.toUpperCase()} without authKey: ` +
      "anyone who can reach the port could connect and send messages. " +
      "Pass authKey (the same secret to both sides), or insecure: true to accept anyone.",
  );
  const settings = {
    key,
    handshakeTimeoutMs: handshakeTimeoutOf("listenIpc", options),
    maxConnections: integerOption(
      "listenIpc",
      "maxConnections",
      options.maxConnections,
      DEFAULT_MAX_CONNECTIONS,
    ),
    maxPendingHandshakes: integerOption(
      "listenIpc",
      "maxPendingHandshakes",
      options.maxPendingHandshakes,
      DEFAULT_MAX_PENDING_HANDSHAKES,
    ),
    maxPendingHandshakesPerAddress: integerOption(
      "listenIpc",
      "maxPendingHandshakesPerAddress",
      options.maxPendingHandshakesPerAddress,
      DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS,
    ),
    streamOptions: streamOptionsOf(options, kind),
    heartbeatMs: heartbeatIntervalOf("listenIpc", options.heartbeat, false),
    onError: options.onError,
  };
  let listener: Deno.Listener;
  if (options.path !== undefined) {
    listener = await listenUnixSocket(options.path);
  } else {
    try {
      listener = options.tls === undefined
        ? Deno.listen({ hostname, port: options.port })
        : Deno.listenTls({
          hostname,
          port: options.port,
          cert: options.tls.cert,
          key: options.tls.key,
        });
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
      throw new IpcAddressInUseError(
        `Port ${options.port} on ${hostname} is in use by another process; stop it or choose another port.`,
        { cause: error },
      );
    }
  }
  return new Listener<In, Out>(listener, settings);
}
