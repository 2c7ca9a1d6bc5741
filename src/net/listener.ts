/**
 * {@linkcode Listener}: accepting connections, running their handshakes
 * within the connection limit, handing out channels, and shutting down.
 *
 * @module
 */

import { IpcClosedError } from "../channel/errors.ts";
import { IpcJsonStream } from "../channel/ipc_json_stream.ts";
import type { IpcJsonStreamOptions } from "../channel/options.ts";
import { AsyncQueue } from "../internal/async_queue.ts";
import { settlesWithin } from "../internal/deadline.ts";
import { toError } from "../internal/error_message.ts";
import { DenoConnTransport } from "../transports/deno_conn.ts";
import { describeNetAddr } from "./address.ts";
import { IpcConnectionRefusedError } from "./errors.ts";
import { refuseBusy, serverHandshake } from "./handshake.ts";
import { closeQuietly } from "./handshake_io.ts";
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
  /** Most connections at once. */
  maxConnections: number;
  /** Options of each channel. */
  streamOptions: IpcJsonStreamOptions<In>;
  /** Told about connections that never became channels. */
  onError: ((error: Error) => void) | undefined;
}

/** The {@linkcode IpcListener} that `listenIpc()` returns. */
export class Listener<In, Out> implements IpcListener<In, Out> {
  #listener: Deno.Listener;
  #settings: ListenerSettings<In>;
  /** Connections in their handshake, or being turned away. */
  #pending = new Set<Deno.Conn>();
  /** Those handshakes and refusals, for `close()` to wait on. */
  #tasks = new Set<Promise<void>>();
  #open = new Map<IpcJsonStream<In, Out>, DenoConnTransport>();
  /** Channels ready, waiting for the iterator. */
  #ready = new AsyncQueue<IpcJsonStream<In, Out>>();
  #acceptLoop: Promise<void>;
  #closing: Promise<void> | undefined;

  /**
   * @param listener The listening socket, now owned by the listener.
   * @param settings The checked options.
   */
  constructor(listener: Deno.Listener, settings: ListenerSettings<In>) {
    this.#listener = listener;
    this.#settings = settings;
    this.#acceptLoop = this.#acceptAll();
  }

  get addr(): Deno.NetAddr | Deno.UnixAddr {
    return this.#listener.addr as Deno.NetAddr | Deno.UnixAddr;
  }

  get connections(): number {
    return this.#pending.size + this.#open.size;
  }

  async accept(): Promise<IpcJsonStream<In, Out>> {
    const result = await this.#ready.next();
    if (result.done) {
      throw new IpcClosedError(
        "Cannot accept a connection: the listener is closed.",
      );
    }
    return result.value;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<IpcJsonStream<In, Out>> {
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
    for (const conn of this.#pending) closeQuietly(conn);
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

function isTcpConn(conn: Deno.Conn): conn is Deno.TcpConn {
  return typeof (conn as Partial<Deno.TcpConn>).setNoDelay === "function";
}

/** Closes `stream` politely, or cuts it off after `graceMs`. */
async function closeWithin<In, Out>(
  stream: IpcJsonStream<In, Out>,
  transport: DenoConnTransport,
  graceMs: number,
): Promise<void> {
  await settlesWithin(stream.close(), graceMs);
  transport.destroy();
  await transport.settled();
  await stream.closed;
}
