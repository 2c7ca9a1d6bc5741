/**
 * {@linkcode listenIpc}: the server's side of channels between unrelated
 * processes, over a Unix socket, TCP or TLS.
 *
 * @module
 */

import {
  channelAddress,
  DEFAULT_MAX_CONNECTIONS,
  describeNetAddr,
  handshakeTimeoutOf,
  type IpcAuthOptions,
  type IpcTlsServerOptions,
  resolveAuthKey,
  streamOptionsOf,
} from "./channel_options.ts";
import {
  IpcAddressInUseError,
  IpcConnectionRefusedError,
} from "./connection_errors.ts";
import { DenoConnTransport } from "./deno_conn_transport.ts";
import { IpcClosedError } from "./errors.ts";
import { closeQuietly, refuseBusy, serverHandshake } from "./handshake.ts";
import {
  IpcJsonStream,
  type IpcJsonStreamOptions,
  positiveOption,
} from "./stream.ts";
import { listenUnixSocket } from "./unix_socket_path.ts";

/**
 * How long `close()` lets each channel write what it queued and say goodbye
 * before cutting it off (a peer that stopped reading would otherwise hold
 * the listener's `close()` forever).
 */
export const CLOSE_GRACE_MS = 3_000;

/** After a failed `accept()` (e.g. out of file descriptors), wait this long. */
const ACCEPT_RETRY_MS = 100;

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
   * Most connections open at once, handshakes in progress included. A client
   * beyond it is told the server is busy (its `connectIpc()` rejects with
   * {@linkcode IpcConnectionRefusedError}, `busy: true`) and disconnected.
   *
   * @default {128}
   */
  maxConnections?: number;
  /**
   * Called with what went wrong on a connection that never became a channel
   * (a failed or timed-out handshake, a refused client) or with a failed
   * `accept()`. The listener goes on serving either way. It must not throw
   * (what it throws is ignored).
   */
  onError?: (error: Error) => void;
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
 * {@linkcode IpcJsonStream} per client that completed the handshake.
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
  extends AsyncIterable<IpcJsonStream<In, Out>>, AsyncDisposable {
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
  accept(): Promise<IpcJsonStream<In, Out>>;
  /**
   * The channels, one per client that completed the handshake, in order.
   * Every call returns the same iterator; it ends when the listener closes.
   * Leaving a loop early does not close the listener.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<IpcJsonStream<In, Out>>;
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
 * proves it back, before a single message is accepted; see the README's
 * security section for what each transport protects. TCP requires a key
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
  const settings: ListenerSettings<In> = {
    key,
    handshakeTimeoutMs: handshakeTimeoutOf(options),
    maxConnections: positiveOption(
      "maxConnections",
      options.maxConnections,
      DEFAULT_MAX_CONNECTIONS,
    ),
    streamOptions: streamOptionsOf(options, kind),
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

interface ListenerSettings<In> {
  key: CryptoKey | undefined;
  handshakeTimeoutMs: number;
  maxConnections: number;
  streamOptions: IpcJsonStreamOptions<In>;
  onError: ((error: Error) => void) | undefined;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
});

class Listener<In, Out> implements IpcListener<In, Out> {
  #listener: Deno.Listener;
  #settings: ListenerSettings<In>;
  /** Connections in their handshake, or being turned away. */
  #pending = new Set<Deno.Conn>();
  /** Those handshakes and refusals, for `close()` to wait on. */
  #tasks = new Set<Promise<void>>();
  #open = new Map<IpcJsonStream<In, Out>, DenoConnTransport>();
  /** Channels ready and not yet taken by the iterator. */
  #ready: IpcJsonStream<In, Out>[] = [];
  #waiters: PromiseWithResolvers<IteratorResult<IpcJsonStream<In, Out>>>[] = [];
  #iterator: AsyncIterableIterator<IpcJsonStream<In, Out>>;
  #acceptLoop: Promise<void>;
  #closing: Promise<void> | undefined;

  constructor(listener: Deno.Listener, settings: ListenerSettings<In>) {
    this.#listener = listener;
    this.#settings = settings;
    const iterator: AsyncIterableIterator<IpcJsonStream<In, Out>> = {
      next: () => this.#next(),
      return: () => Promise.resolve(DONE),
      [Symbol.asyncIterator]: () => iterator,
    };
    this.#iterator = iterator;
    this.#acceptLoop = this.#acceptAll();
  }

  get addr(): Deno.NetAddr | Deno.UnixAddr {
    return this.#listener.addr as Deno.NetAddr | Deno.UnixAddr;
  }

  get connections(): number {
    return this.#pending.size + this.#open.size;
  }

  async accept(): Promise<IpcJsonStream<In, Out>> {
    const result = await this.#next();
    if (result.done) {
      throw new IpcClosedError(
        "Cannot accept a connection: the listener is closed.",
      );
    }
    return result.value;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<IpcJsonStream<In, Out>> {
    return this.#iterator;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  ref(): void {
    this.#listener.ref();
  }

  unref(): void {
    this.#listener.unref();
  }

  #next(): Promise<IteratorResult<IpcJsonStream<In, Out>>> {
    const stream = this.#ready.shift();
    if (stream !== undefined) {
      return Promise.resolve({ value: stream, done: false });
    }
    if (this.#closing !== undefined) return Promise.resolve(DONE);
    const waiter = Promise.withResolvers<
      IteratorResult<IpcJsonStream<In, Out>>
    >();
    this.#waiters.push(waiter);
    return waiter.promise;
  }

  async #acceptAll(): Promise<void> {
    while (this.#closing === undefined) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (
          this.#closing !== undefined ||
          error instanceof Deno.errors.BadResource ||
          error instanceof Deno.errors.Interrupted
        ) {
          return;
        }
        // E.g. out of file descriptors: report, and do not spin on it.
        this.#report(error);
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      if (this.#closing !== undefined) {
        closeQuietly(conn);
        return;
      }
      this.#admit(conn);
    }
  }

  #admit(conn: Deno.Conn): void {
    // Deno leaves Nagle's algorithm on: small answers to pipelined messages
    // would wait for the peer's delayed ACK (~40 ms). Connections accepted
    // by Deno.listenTls offer no way to turn it off.
    if (isTcpConn(conn)) conn.setNoDelay(true);
    const peer = this.#describePeer(conn);
    const { maxConnections, handshakeTimeoutMs } = this.#settings;
    this.#pending.add(conn);
    if (this.connections > maxConnections) {
      this.#track(conn, refuseBusy(conn, handshakeTimeoutMs, peer));
      this.#report(
        new IpcConnectionRefusedError(
          `Turned away the client at ${peer}: ${maxConnections} connections are open (maxConnections).`,
          true,
        ),
      );
      return;
    }
    this.#track(conn, this.#handshake(conn, peer));
  }

  #track(conn: Deno.Conn, task: Promise<void>): void {
    const tracked = task.finally(() => {
      this.#pending.delete(conn);
      this.#tasks.delete(tracked);
    });
    this.#tasks.add(tracked);
  }

  async #handshake(conn: Deno.Conn, peer: string): Promise<void> {
    const { key, handshakeTimeoutMs } = this.#settings;
    try {
      await serverHandshake(conn, { key, timeoutMs: handshakeTimeoutMs, peer });
    } catch (error) {
      closeQuietly(conn);
      if (this.#closing === undefined) this.#report(error);
      return;
    }
    if (this.#closing !== undefined) {
      closeQuietly(conn);
      return;
    }
    const transport = new DenoConnTransport(conn);
    const stream = new IpcJsonStream<In, Out>(
      transport,
      this.#settings.streamOptions,
    );
    this.#open.set(stream, transport);
    stream.closed.then(() => this.#open.delete(stream));
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve({ value: stream, done: false });
    else this.#ready.push(stream);
  }

  async #close(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // Closed already.
    }
    await this.#acceptLoop;
    for (const conn of this.#pending) closeQuietly(conn);
    await Promise.all(this.#tasks);
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(DONE);
    this.#ready.length = 0;
    await Promise.all(
      [...this.#open].map(([stream, transport]) =>
        closeWithin(stream, transport, CLOSE_GRACE_MS)
      ),
    );
  }

  #report(error: unknown): void {
    const onError = this.#settings.onError;
    if (onError === undefined) return;
    try {
      onError(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // A failing error handler must not take the listener down.
    }
  }

  #describePeer(conn: Deno.Conn): string {
    const remote = conn.remoteAddr;
    if (remote.transport === "tcp") {
      return describeNetAddr(remote.hostname, remote.port);
    }
    const local = this.#listener.addr;
    return local.transport === "unix" ? local.path : String(remote.transport);
  }
}

function isTcpConn(conn: Deno.Conn): conn is Deno.TcpConn {
  return typeof (conn as Partial<Deno.TcpConn>).setNoDelay === "function";
}

/** Closes `stream` politely, or cuts it off after `graceMs`. */
async function closeWithin<In, Out>(
  stream: IpcJsonStream<In, Out>,
  transport: DenoConnTransport,
  graceMs: number,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs);
  });
  await Promise.race([stream.close(), grace]);
  clearTimeout(timer);
  transport.destroy();
  await transport.settled();
  await stream.closed;
}
