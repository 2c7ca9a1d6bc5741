/**
 * {@linkcode listenIpc}: the server's side of channels between unrelated
 * processes, over a Unix socket, TCP or TLS. The listener accepts
 * connections, runs their handshakes within the limits (in all and per
 * address), hands out channels and shuts down; a Unix socket lives in an
 * owner-only directory, and a stale socket file is replaced.
 *
 * @module
 */

import { dirname } from "node:path";
import {
  IpcAddressInUseError,
  IpcClosedError,
  IpcHandshakeError,
} from "../errors.ts";
import type { IpcJsonStreamOptions } from "../channel/options.ts";
import { AsyncQueue } from "../internal/async_queue.ts";
import { integerOption } from "../internal/check_option.ts";
import { settlesWithin } from "../internal/deadline.ts";
import { toError } from "../internal/error_message.ts";
import type { DenoConnTransport } from "../transports/deno_conn.ts";
import {
  channelAddress,
  clientAddressKey,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_PENDING_HANDSHAKES,
  DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS,
  describeNetAddr,
  handshakeTimeoutOf,
  type IpcAuthOptions,
  type IpcTlsServerOptions,
  resolveAuthKey,
  streamOptionsOf,
} from "./options.ts";
import {
  busyError,
  closedSilently,
  closeQuietly,
  refuseBusy,
  serverHandshake,
} from "./handshake.ts";
import {
  heartbeatIntervalOf,
  type IpcNetStream,
  openNetStream,
} from "./ipc_net_stream.ts";

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
   * {@linkcode IpcHandshakeError} with `reason` `"dropped"`: so a flood of idle or slow
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
   * handshake is dropped (an {@linkcode IpcHandshakeError}, `reason` `"dropped"`), so one
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
 * Options of {@linkcode listenIpc}: a Unix socket `path`, or a TCP `port`
 * (with `hostname` and `tls`).
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
  & ListenIpcCommonOptions<In>
  & (
    | {
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
    | {
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
  );

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
 * @throws {TypeError} TCP without `authKey` or `insecure`, a
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

/**
 * How long `close()` lets each channel write what it queued and say goodbye
 * before cutting it off (a peer that stopped reading would otherwise hold
 * the listener's `close()` forever).
 */
const CLOSE_GRACE_MS = 3_000;

/** After a failed `accept()` (e.g. out of file descriptors), wait this long. */
const ACCEPT_RETRY_MS = 100;

/** The checked options of a listener. */
interface ListenerSettings<In> {
  /** The HMAC key, or `undefined` without authentication. */
  key: CryptoKey | undefined;
  /** Limit of each handshake. */
  handshakeTimeoutMs: number;
  /** Most channels at once. */
  maxConnections: number;
  /** Most handshakes at once. */
  maxPendingHandshakes: number;
  /** Most handshakes at once from one address (TCP and TLS). */
  maxPendingHandshakesPerAddress: number;
  /** Options of each channel. */
  streamOptions: IpcJsonStreamOptions<In>;
  /** The heartbeat's interval; `0`: only answer the clients' pings. */
  heartbeatMs: number;
  /** Told about connections that never became channels. */
  onError: ((error: Error) => void) | undefined;
}

/** The {@linkcode IpcListener} that `listenIpc()` returns. */
class Listener<In, Out> implements IpcListener<In, Out> {
  #listener: Deno.Listener;
  #settings: ListenerSettings<In>;
  /** Connections in their handshake, or being turned away. */
  #pending: HandshakeBudget<Deno.Conn>;
  /** Those dropped to make room, and why, for the report. */
  #dropped = new WeakMap<Deno.Conn, DroppedHandshake<Deno.Conn>>();
  /** Those handshakes and refusals, for `close()` to wait on. */
  #tasks = new Set<Promise<void>>();
  #open = new Map<IpcNetStream<In, Out>, DenoConnTransport>();
  /** Channel slots taken: the open channels and those about to open. */
  #channels = 0;
  /** Channels ready, waiting for the iterator. */
  #ready = new AsyncQueue<IpcNetStream<In, Out>>();
  #acceptLoop: Promise<void>;
  #closing: Promise<void> | undefined;

  /**
   * @param listener The listening socket, now owned by the listener.
   * @param settings The checked options.
   */
  constructor(listener: Deno.Listener, settings: ListenerSettings<In>) {
    this.#listener = listener;
    this.#settings = settings;
    this.#pending = new HandshakeBudget(
      settings.maxPendingHandshakes,
      settings.maxPendingHandshakesPerAddress,
    );
    this.#acceptLoop = this.#acceptAll();
  }

  get addr(): Deno.NetAddr | Deno.UnixAddr {
    return this.#listener.addr as Deno.NetAddr | Deno.UnixAddr;
  }

  get connections(): number {
    return this.#pending.size + this.#open.size;
  }

  async accept(): Promise<IpcNetStream<In, Out>> {
    const result = await this.#ready.next();
    if (result.done) {
      throw new IpcClosedError(
        "Cannot accept a connection: the listener is closed.",
      );
    }
    return result.value;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<IpcNetStream<In, Out>> {
    return this.#ready.iterator();
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
    const remote = conn.remoteAddr;
    const address = remote.transport === "tcp"
      ? clientAddressKey(remote.hostname)
      : undefined;
    for (const dropped of this.#pending.admit(conn, address)) {
      this.#dropped.set(dropped.key, dropped);
      closeQuietly(dropped.key);
    }
    const { maxConnections, handshakeTimeoutMs } = this.#settings;
    if (this.#channels >= maxConnections) {
      this.#track(conn, refuseBusy(conn, handshakeTimeoutMs, peer));
      this.#report(busyError(peer));
      return;
    }
    this.#track(conn, this.#handshake(conn, peer));
  }

  #track(conn: Deno.Conn, task: Promise<void>): void {
    const tracked = task.finally(() => {
      this.#pending.release(conn);
      this.#tasks.delete(tracked);
    });
    this.#tasks.add(tracked);
  }

  async #handshake(conn: Deno.Conn, peer: string): Promise<void> {
    const { key, handshakeTimeoutMs } = this.#settings;
    let reserved = false;
    try {
      await serverHandshake(conn, {
        key,
        timeoutMs: handshakeTimeoutMs,
        peer,
        // Others may have completed meanwhile and taken the last slots.
        admit: () => {
          if (this.#channels >= this.#settings.maxConnections) return false;
          reserved = true;
          this.#channels++;
          return true;
        },
      });
    } catch (error) {
      if (reserved) this.#channels--;
      closeQuietly(conn);
      if (this.#closing !== undefined) return;
      const dropped = this.#dropped.get(conn);
      // Connected and closed without a byte: a check that something listens.
      if (dropped === undefined && closedSilently(error)) return;
      this.#report(
        dropped === undefined
          ? error
          : droppedError(dropped, peer, this.#settings[dropped.limit]),
      );
      return;
    }
    if (this.#closing !== undefined) {
      this.#channels--;
      closeQuietly(conn);
      return;
    }
    const { stream, transport } = openNetStream<In, Out>(
      conn,
      this.#settings.streamOptions,
      this.#settings.heartbeatMs,
      `the client at ${peer}`,
    );
    this.#open.set(stream, transport);
    stream.closed.then(() => {
      this.#open.delete(stream);
      this.#channels--;
    });
    this.#ready.push(stream);
  }

  async #close(): Promise<void> {
    this.#ready.end();
    try {
      this.#listener.close();
    } catch {
      // Closed already.
    }
    await this.#acceptLoop;
    for (const conn of this.#pending.keys()) closeQuietly(conn);
    await Promise.all(this.#tasks);
    this.#ready.clear();
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
      onError(toError(error));
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

/** Which limit made a listener drop a handshake. */
type HandshakeLimit = NonNullable<IpcHandshakeError["limit"]>;

/** The report of a handshake dropped to make room. */
function droppedError(
  dropped: DroppedHandshake<Deno.Conn>,
  peer: string,
  limitValue: number,
): IpcHandshakeError {
  const waited = Math.round(performance.now() - dropped.since);
  const from = dropped.limit === "maxPendingHandshakes"
    ? ""
    : " from its address";
  return new IpcHandshakeError(
    `Dropped the handshake of the client at ${peer} after ${waited} ms to make room for a newer one: ` +
      `${limitValue} connections${from} were in their handshake at once (${dropped.limit}), and this one had waited longest. ` +
      "Many of these mean a flood of stalled or slow connections, or a limit too low for your clients' bursts.",
    "dropped",
    { limit: dropped.limit },
  );
}

function isTcpConn(conn: Deno.Conn): conn is Deno.TcpConn {
  return typeof (conn as Partial<Deno.TcpConn>).setNoDelay === "function";
}

/** Closes `stream` politely, or cuts it off after `graceMs`. */
async function closeWithin<In, Out>(
  stream: IpcNetStream<In, Out>,
  transport: DenoConnTransport,
  graceMs: number,
): Promise<void> {
  await settlesWithin(stream.close(), graceMs);
  transport.destroy();
  await transport.settled();
  await stream.closed;
}

/** A handshake dropped to make room, and the limit that was reached. */
interface DroppedHandshake<K> {
  /** The connection dropped. */
  key: K;
  /** The limit that was reached. */
  limit: HandshakeLimit;
  /** When it was admitted, from `performance.now()`. */
  since: number;
}

interface Entry {
  address: string | undefined;
  since: number;
}

/**
 * The connections in their handshake, oldest first. Admitting one past a
 * limit drops the oldest under that limit: a stalled connection has had its
 * chance, while a new one may be an honest client, and a flood of idle
 * connections then only ever evicts itself instead of locking everyone out.
 * The per-address limit comes first, so one address's flood drops only its
 * own handshakes.
 *
 * @typeParam K What identifies a connection.
 */
export class HandshakeBudget<K> {
  #entries = new Map<K, Entry>();
  #perAddress = new Map<string, number>();
  #total: number;
  #addressLimit: number;

  /**
   * @param total Most handshakes at once.
   * @param perAddress Most handshakes at once from one address.
   */
  constructor(total: number, perAddress: number) {
    this.#total = total;
    this.#addressLimit = perAddress;
  }

  /** Handshakes in progress. */
  get size(): number {
    return this.#entries.size;
  }

  /** The connections in their handshake, oldest first. */
  keys(): IterableIterator<K> {
    return this.#entries.keys();
  }

  /**
   * Admits `key`, dropping what must go to make room.
   *
   * @param key The new connection.
   * @param address Its remote address, or `undefined` where addresses do not
   *   tell clients apart (a Unix socket).
   * @returns The connections dropped, no longer counted: close them.
   */
  admit(key: K, address: string | undefined): DroppedHandshake<K>[] {
    const dropped: DroppedHandshake<K>[] = [];
    if (
      address !== undefined &&
      (this.#perAddress.get(address) ?? 0) >= this.#addressLimit
    ) {
      const oldest = this.#oldest(address);
      if (oldest !== undefined) {
        dropped.push(this.#drop(oldest, "maxPendingHandshakesPerAddress"));
      }
    }
    if (this.#entries.size >= this.#total) {
      const oldest = this.#oldest(undefined);
      if (oldest !== undefined) {
        dropped.push(this.#drop(oldest, "maxPendingHandshakes"));
      }
    }
    this.#entries.set(key, { address, since: performance.now() });
    if (address !== undefined) {
      this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
    }
    return dropped;
  }

  /** `key`'s handshake ended (either way); nothing when it was dropped. */
  release(key: K): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    const address = entry.address;
    if (address === undefined) return;
    const count = (this.#perAddress.get(address) ?? 1) - 1;
    if (count === 0) this.#perAddress.delete(address);
    else this.#perAddress.set(address, count);
  }

  /** The oldest entry, of `address` when given. */
  #oldest(address: string | undefined): K | undefined {
    for (const [key, entry] of this.#entries) {
      if (address === undefined || entry.address === address) return key;
    }
    return undefined;
  }

  #drop(key: K, limit: HandshakeLimit): DroppedHandshake<K> {
    const since = this.#entries.get(key)!.since;
    this.release(key);
    return { key, limit, since };
  }
}

/** Mode of a directory this module creates for a socket: owner only. */
const SOCKET_DIRECTORY_MODE = 0o700;
/** Mode given to the socket file: read and write (connect) for the owner. */
const SOCKET_FILE_MODE = 0o600;
/**
 * Longest socket path, in bytes: `sun_path` holds 108 bytes on Linux, the
 * last of them a NUL (104 on macOS, so keep paths shorter to be portable).
 */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Listens on the Unix socket `path`.
 *
 * Creates the socket's directory with mode 0700 when it is missing, and
 * refuses a directory that other users can enter or that belongs to another
 * user. When the path is taken by a socket nobody answers on (its server
 * died without removing it), it is replaced; when a server answers, nothing
 * is touched.
 *
 * @throws {TypeError} When the directory is open to others.
 * @throws {IpcAddressInUseError} When a live server owns the path, or the
 *   path is something other than a socket.
 */
async function listenUnixSocket(
  path: string,
): Promise<Deno.UnixListener> {
  checkPathLength(path);
  const directory = dirname(path);
  const owner = prepareDirectory(directory);
  const listener = await bindReplacingStale(path);
  try {
    // The directory already keeps others out; this guards the socket when
    // the directory is later opened up.
    Deno.chmodSync(path, SOCKET_FILE_MODE);
    const socketOwner = Deno.statSync(path).uid;
    if (owner !== null && socketOwner !== null && socketOwner !== owner) {
      throw new TypeError(
        `The directory ${directory} belongs to user ${owner}, not to this process (user ${socketOwner}): ` +
          "its owner could replace the socket. Put the socket in a directory of your own.",
      );
    }
  } catch (error) {
    listener.close();
    throw error;
  }
  return listener;
}

/**
 * Makes sure `directory` exists and only its owner can enter it.
 *
 * @returns The directory owner's user id (`null` where the platform has none).
 */
function prepareDirectory(directory: string): number | null {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(directory);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    Deno.mkdirSync(directory, { recursive: true, mode: SOCKET_DIRECTORY_MODE });
    info = Deno.statSync(directory);
  }
  if (!info.isDirectory) {
    throw new TypeError(
      `${directory} is not a directory, so no socket can be created in it; choose another path.`,
    );
  }
  const mode = info.mode === null ? null : info.mode & 0o777;
  if (mode !== null && (mode & 0o077) !== 0) {
    throw new TypeError(
      `The socket's directory ${directory} can be entered by other users (mode ${
        octal(mode)
      }), ` +
        "so they could connect to the socket or replace it. Put the socket in a directory only you can enter: " +
        `a missing directory is created with mode 0700, or run \`chmod 700 ${directory}\` if it is yours alone.`,
    );
  }
  return info.uid;
}

async function bindReplacingStale(path: string): Promise<Deno.UnixListener> {
  try {
    return Deno.listen({ transport: "unix", path });
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
  }
  const info = lstatOrNull(path);
  if (info !== null && !info.isSocket) {
    throw new IpcAddressInUseError(
      `${path} exists and is not a socket; it was left alone. Remove it or choose another path.`,
    );
  }
  if (info !== null) {
    if (await somethingAnswers(path)) {
      throw new IpcAddressInUseError(
        `A server is already listening on ${path}; it was left alone. Stop it first, or choose another path.`,
      );
    }
    // Stale: its server died without removing it.
    try {
      Deno.removeSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  try {
    return Deno.listen({ transport: "unix", path });
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    throw new IpcAddressInUseError(
      `Another server took ${path} while this one was replacing its stale socket file; it was left alone.`,
      { cause: error },
    );
  }
}

/** `true` when a process accepts connections on the socket at `path`. */
async function somethingAnswers(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch (error) {
    if (
      error instanceof Deno.errors.ConnectionRefused ||
      error instanceof Deno.errors.NotFound
    ) {
      return false;
    }
    throw error;
  }
}

function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

function checkPathLength(path: string): void {
  if (typeof path !== "string" || path === "") {
    throw new TypeError("The Unix socket path must be a non-empty string.");
  }
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new RangeError(
      `The Unix socket path ${path} is ${bytes} bytes long; sockets allow at most ${MAX_SOCKET_PATH_BYTES}. ` +
        "Choose a shorter path, e.g. under $XDG_RUNTIME_DIR.",
    );
  }
}

function octal(mode: number): string {
  return "0" + mode.toString(8).padStart(3, "0");
}
