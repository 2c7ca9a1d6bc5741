/**
 * {@linkcode connectIpc}: the client's side of channels between unrelated
 * processes, over a Unix socket, TCP or TLS.
 *
 * @module
 */

import type { IpcJsonStreamOptions } from "../channel/options.ts";
import { DEFAULT_SEND_BUFFER_BYTES } from "../channel/options.ts";
import {
  channelAddress,
  handshakeTimeoutOf,
  type IpcAuthOptions,
  type IpcTlsClientOptions,
  resolveAuthKey,
  streamOptionsOf,
} from "./options.ts";
import { IpcConnectionRefusedError, IpcHandshakeError } from "../errors.ts";
import { clientHandshake, closeQuietly } from "./handshake.ts";
import {
  heartbeatIntervalOf,
  type IpcNetStream,
  openNetStream,
} from "./ipc_net_stream.ts";
import { IpcReconnectingStream } from "./reconnect.ts";
import {
  type IpcReconnectOptions,
  reconnectSettingsOf,
} from "./reconnect_options.ts";

/**
 * Options of {@linkcode connectIpc} common to every transport.
 *
 * @example
 * ```ts
 * import type { ConnectIpcCommonOptions } from "@tether/ipc";
 *
 * const common: ConnectIpcCommonOptions = {
 *   authKey: "a shared secret of 16 bytes or more",
 *   maxMessageBytes: 1024 * 1024,
 * };
 * ```
 */
export interface ConnectIpcCommonOptions<In = unknown>
  extends IpcJsonStreamOptions<In>, IpcAuthOptions {
  /**
   * Reconnect when the connection drops, with jittered exponential backoff
   * (`true`: the defaults): `connectIpc()` then resolves with an
   * {@linkcode IpcReconnectingStream}. The first connection is not retried:
   * a wrong address or key fails at once.
   */
  reconnect?: IpcReconnectOptions | true;
  /**
   * Checks that the server is alive: when nothing arrived for `interval`
   * milliseconds, the client pings, and once the server has answered a
   * ping, nothing at all for two intervals means it is gone (stopped, hung,
   * unreachable): the channel closes (calls waiting for an answer reject,
   * `send()` stops waiting), and a reconnecting channel reconnects. Any
   * traffic counts as a sign of life. A server that does not know the
   * heartbeat (an older version, another implementation) never answers, and
   * is never declared gone. `false` or `{ interval: 0 }` turns it off.
   *
   * The pings also acknowledge sends, for `sendsMaybeLost` of a
   * reconnecting channel. See `docs/network.md#the-heartbeat`.
   *
   * @default {on (`interval` 5000) with `reconnect` and the `"json"` serialization; off otherwise}
   */
  heartbeat?: boolean | { interval?: number };
}

/**
 * Options of {@linkcode connectIpc}: a Unix socket `path`, or a TCP `port`
 * (with `hostname` and `tls`).
 *
 * @example
 * ```ts
 * import type { ConnectIpcOptions } from "@tether/ipc";
 *
 * const local: ConnectIpcOptions = { path: "/run/user/1000/app/app.sock" };
 * const remote: ConnectIpcOptions = { hostname: "daemon.example", port: 7000, authKey: "a shared secret of 16 bytes or more" };
 * ```
 */
export type ConnectIpcOptions<In = unknown> =
  & ConnectIpcCommonOptions<In>
  & (
    | {
      /** Path of the server's socket. */
      path: string;
      /** Only for TCP. */
      hostname?: never;
      /** Only for TCP. */
      port?: never;
      /** Only for TCP. */
      tls?: never;
    }
    | {
      /**
       * The server's host name or address.
       *
       * @default {"127.0.0.1"}
       */
      hostname?: string;
      /** The server's port. */
      port: number;
      /**
       * Connect with TLS, checking the server's certificate against the system's
       * roots and `caCerts`. `{}` uses the system's roots only.
       */
      tls?: IpcTlsClientOptions;
      /** Only for Unix sockets. */
      path?: never;
    }
  );

/**
 * Connects to a {@linkcode listenIpc} server and completes the handshake.
 *
 * With `authKey`, the client proves it knows the key and checks that the
 * server proves it too; a server without a key, or with another, is refused.
 * Plain TCP without `authKey` requires `insecure: true` (anyone could be
 * answering on that port); TLS without `authKey` does not, since the
 * certificate authenticates the server, but a listener on TCP normally
 * requires a key anyway.
 *
 * Permissions: a Unix socket needs `--allow-read --allow-write` and
 * `--allow-net=unix:<path>`; TCP and TLS `--allow-net=<host>`.
 *
 * With `reconnect`, the channel outlives its connections: see
 * {@linkcode IpcReconnectingStream}.
 *
 * @typeParam In The type of the messages from the server.
 * @typeParam Out The type of the messages to the server.
 * @param options Where to connect, the key, and the limits.
 * @returns The channel, ready: no message was exchanged yet.
 * @throws {IpcConnectionRefusedError} Nothing listens there, or the server
 *   is at its connection limit (`busy: true`).
 * @throws {IpcHandshakeError} `reason` `"authentication"`: the keys differ, or
 *   one side has none; `"timeout"`: no answer within `handshakeTimeout`; else
 *   the server does not speak this protocol, or
 *   the TLS handshake failed.
 * @throws {TypeError} Plain TCP without `authKey` or `insecure`.
 * @throws {RangeError} A key under 16 bytes.
 *
 * @example A client of a daemon on a Unix socket
 * ```ts ignore
 * import { connectIpc } from "@tether/ipc";
 *
 * await using daemon = await connectIpc<{ sum: number }, { add: [number, number] }>({
 *   path: `${Deno.env.get("XDG_RUNTIME_DIR")}/app/app.sock`,
 *   authKey: Deno.readFileSync(`${Deno.env.get("HOME")}/.config/app/ipc.key`),
 * });
 * await daemon.send({ add: [2, 40] });
 * console.log(await daemon.receive()); // { sum: 42 }
 * ```
 *
 * @example A client that reconnects when the daemon restarts
 * ```ts ignore
 * import { connectIpc } from "@tether/ipc";
 *
 * const daemon = await connectIpc({
 *   path: `${Deno.env.get("XDG_RUNTIME_DIR")}/app/app.sock`,
 *   reconnect: { maxDelay: 2_000, onStateChange: ({ state }) => console.error("daemon:", state) },
 * });
 * for await (const event of daemon) console.log(event); // goes on across restarts
 * ```
 *
 * @example Over TLS with a self-signed server certificate
 * ```ts ignore
 * import { connectIpc } from "@tether/ipc";
 *
 * await using server = await connectIpc({
 *   hostname: "daemon.example",
 *   port: 7000,
 *   tls: { caCerts: [Deno.readTextFileSync("cert.pem")] },
 *   authKey: Deno.readFileSync("ipc.key"),
 * });
 * ```
 */
export function connectIpc<In = unknown, Out = unknown>(
  options: ConnectIpcOptions<In> & { reconnect: IpcReconnectOptions | true },
): Promise<IpcReconnectingStream<In, Out>>;
/**
 * Connects to a {@linkcode listenIpc} server, once: the channel ends when the
 * connection does. See the overload with `reconnect` for the rest.
 *
 * @typeParam In The type of the messages from the server.
 * @typeParam Out The type of the messages to the server.
 * @param options Where to connect, the key, and the limits.
 * @returns The channel, ready.
 *
 * @example
 * ```ts ignore
 * import { connectIpc } from "@tether/ipc";
 *
 * await using daemon = await connectIpc({ path: "/run/user/1000/app/app.sock" });
 * console.log(daemon.remoteAddr);
 * ```
 */
export function connectIpc<In = unknown, Out = unknown>(
  options: ConnectIpcOptions<In>,
): Promise<IpcNetStream<In, Out>>;
export async function connectIpc<In = unknown, Out = unknown>(
  options: ConnectIpcOptions<In>,
): Promise<IpcNetStream<In, Out> | IpcReconnectingStream<In, Out>> {
  const { kind, hostname, name: peer } = channelAddress(options);
  const key = await resolveAuthKey(
    options,
    kind === "tcp",
    `Refusing to connect to ${peer} over plain TCP without authKey: ` +
      "whoever answers on that port would get the messages. " +
      "Pass the server's authKey, connect with tls, or pass insecure: true to accept that.",
  );
  const timeoutMs = handshakeTimeoutOf("connectIpc", options);
  const streamOptions = streamOptionsOf(options, kind);
  const settings = options.reconnect === undefined
    ? undefined
    : reconnectSettingsOf(options.reconnect);
  // Off by default with "advanced": an older peer would fail on its signals.
  const heartbeatMs = heartbeatIntervalOf(
    "connectIpc",
    options.heartbeat,
    settings !== undefined && streamOptions.serialization !== "advanced",
  );
  const connect = async () => {
    const conn = await open(options, hostname, peer, timeoutMs);
    try {
      await clientHandshake(conn, { key, timeoutMs, peer });
    } catch (error) {
      closeQuietly(conn);
      throw error;
    }
    return openNetStream<In, Out>(
      conn,
      streamOptions,
      heartbeatMs,
      `the server at ${peer}`,
    );
  };
  const first = await connect();
  if (settings === undefined) return first.stream;
  return new IpcReconnectingStream<In, Out>(first, {
    connect,
    settings,
    peer,
    sendBufferBytes: streamOptions.sendBufferBytes ?? DEFAULT_SEND_BUFFER_BYTES,
  });
}

/** Opens the connection (TLS not yet negotiated), within `timeoutMs`. */
async function open(
  options: ConnectIpcOptions,
  hostname: string,
  peer: string,
  timeoutMs: number,
): Promise<Deno.Conn> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    if (options.path !== undefined) {
      return await Deno.connect({ transport: "unix", path: options.path });
    }
    const conn = await Deno.connect({
      hostname,
      port: options.port,
      signal: controller.signal,
    });
    // Deno leaves Nagle's algorithm on, which delays small messages sent
    // while earlier ones are unacknowledged by up to ~40 ms.
    conn.setNoDelay(true);
    if (options.tls === undefined) return conn;
    try {
      return await Deno.startTls(conn, {
        hostname: options.tls.serverName ?? hostname,
        caCerts: options.tls.caCerts,
      });
    } catch (error) {
      closeQuietly(conn);
      throw error;
    }
  } catch (error) {
    if (controller.signal.aborted) {
      throw new IpcHandshakeError(
        `Could not connect to ${peer} within ${timeoutMs} ms (handshakeTimeout). Is the address right and reachable?`,
        "timeout",
        { timeoutMs },
      );
    }
    if (
      error instanceof Deno.errors.ConnectionRefused ||
      error instanceof Deno.errors.NotFound
    ) {
      throw new IpcConnectionRefusedError(
        `No server is listening at ${peer}: start it first, or check the ${
          options.path !== undefined ? "path" : "host name and port"
        }.`,
        false,
        { cause: error },
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
