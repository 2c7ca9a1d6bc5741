/**
 * {@linkcode Listener}: accepting connections, running their handshakes
 * within the connection limit, handing out channels, and shutting down.
 *
 * @module
 */

import { IpcClosedError } from "../channel/errors.ts";
import type { IpcJsonStreamOptions } from "../channel/options.ts";
import { AsyncQueue } from "../internal/async_queue.ts";
import { settlesWithin } from "../internal/deadline.ts";
import { toError } from "../internal/error_message.ts";
import type { DenoConnTransport } from "../transports/deno_conn.ts";
import { clientAddressKey, describeNetAddr } from "./address.ts";
import { IpcHandshakeDroppedError } from "./errors.ts";
import { busyError, refuseBusy, serverHandshake } from "./handshake.ts";
import { type DroppedHandshake, HandshakeBudget } from "./handshake_budget.ts";
import { closedSilently, closeQuietly } from "./handshake_io.ts";
import { type IpcNetStream, openNetStream } from "./ipc_net_stream.ts";
import type { IpcListener } from "./listen_ipc.ts";

/**
 * How long `close()` lets each channel write what it queued and say goodbye
 * before cutting it off (a peer that stopped reading would otherwise hold
 * the listener's `close()` forever).
 */
export const CLOSE_GRACE_MS = 3_000;

/** After a failed `accept()` (e.g. out of file descriptors), wait this long. */
const ACCEPT_RETRY_MS = 100;

/** The checked options of a listener. */
export interface ListenerSettings<In> {
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
export class Listener<In, Out> implements IpcListener<In, Out> {
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

/** The report of a handshake dropped to make room. */
function droppedError(
  dropped: DroppedHandshake<Deno.Conn>,
  peer: string,
  limitValue: number,
): IpcHandshakeDroppedError {
  const waited = Math.round(performance.now() - dropped.since);
  const from = dropped.limit === "maxPendingHandshakes"
    ? ""
    : " from its address";
  return new IpcHandshakeDroppedError(
    `Dropped the handshake of the client at ${peer} after ${waited} ms to make room for a newer one: ` +
      `${limitValue} connections${from} were in their handshake at once (${dropped.limit}), and this one had waited longest. ` +
      "Many of these mean a flood of stalled or slow connections, or a limit too low for your clients' bursts.",
    dropped.limit,
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
