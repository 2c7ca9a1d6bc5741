/**
 * The transport over a native `Deno.Conn` (a Unix socket, TCP or TLS
 * connection): `conn.read()` into one reused buffer and `conn.write()` in
 * order, without the Web streams `conn.readable` and `conn.writable` would
 * put in between (a new chunk allocated per read, and a promise chain per
 * chunk). See `bench/conn_transport_bench.ts` for the comparison.
 *
 * @module
 */

import { settlesWithin } from "../internal/deadline.ts";
import { toError } from "../internal/error_message.ts";
import type { IpcTransport, IpcTransportSink } from "./transport.ts";

/** Size of the reused read buffer: what the kernel hands over per read anyway. */
export const CONN_READ_BUFFER_BYTES = 64 * 1024;

/**
 * How long `close()` waits for the peer to close its side after ours is shut
 * down. Closing a TCP socket that still has unread input makes the kernel
 * send a reset, and a reset can discard what we sent last before the peer
 * read it; reading to the peer's end first avoids that.
 */
export const CLOSE_LINGER_MS = 2_000;

const utf8Encoder = new TextEncoder();

interface PendingWrite {
  data: string | Uint8Array;
  done: (error?: Error) => void;
}

/**
 * An {@linkcode IpcTransport} over a `Deno.Conn`: reads into one reused
 * buffer and writes in order (the channel coalesces its messages into each
 * write). `listenIpc()` and `connectIpc()` use it; use it yourself to run an
 * {@linkcode IpcJsonStream} over a connection you opened (without the
 * handshake).
 *
 * `close()` writes what is queued, shuts down our side, and waits (up to
 * 2 s) for the peer to close its side before closing the connection, so a
 * TCP reset cannot discard the last messages sent.
 *
 * @example A channel over a connection of your own
 * ```ts ignore
 * import { DenoConnTransport, IpcJsonStream } from "@tether/ipc";
 *
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 7000 });
 * await using ipc = new IpcJsonStream(new DenoConnTransport(conn));
 * await ipc.send({ hello: "server" });
 * ```
 */
export class DenoConnTransport implements IpcTransport {
  readonly reusesReadBuffer = true;
  #conn: Deno.Conn;
  #buffer: Uint8Array;
  #sink: IpcTransportSink | undefined;

  // Reading.
  #readActive = false;
  #readLoopDone: Promise<void> = Promise.resolve();
  #paused = false;
  /** The input ended or failed, and the sink was told (or need not be). */
  #ended = false;

  // Writing.
  #writes: PendingWrite[] = [];
  #writing = false;
  #writeLoopDone: Promise<void> = Promise.resolve();
  #writeError: Error | undefined;
  #writesDone: PromiseWithResolvers<void> | undefined;

  // Lifecycle.
  #closing: Promise<void> | undefined;
  #destroyed = false;
  #inputDone: PromiseWithResolvers<void> = Promise.withResolvers();

  /**
   * Wraps `conn`; reading starts when an {@linkcode IpcJsonStream} starts the
   * transport.
   *
   * @param conn The connection, now owned by the transport.
   * @param readBufferBytes Size of the reused read buffer.
   */
  constructor(conn: Deno.Conn, readBufferBytes = CONN_READ_BUFFER_BYTES) {
    if (!Number.isSafeInteger(readBufferBytes) || readBufferBytes <= 0) {
      throw new RangeError(
        `readBufferBytes must be a positive integer, got ${readBufferBytes}`,
      );
    }
    this.#conn = conn;
    this.#buffer = new Uint8Array(readBufferBytes);
  }

  start(sink: IpcTransportSink): void {
    this.#sink = sink;
    this.#startReading();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#startReading();
  }

  write(data: string | Uint8Array, done: (error?: Error) => void): void {
    if (this.#destroyed || this.#writeError !== undefined) {
      const error = this.#writeError ?? closedError();
      queueMicrotask(() => done(error));
      return;
    }
    this.#writes.push({ data, done });
    if (!this.#writing) {
      this.#writing = true;
      this.#writeLoopDone = this.#writeLoop();
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#ended = true;
    try {
      this.#conn.close();
    } catch {
      // Closed already.
    }
    this.#inputDone.resolve();
    this.#failWrites(closedError());
  }

  /**
   * Resolves once no read or write of the connection is pending: after
   * `destroy()`, when the operations it cut short have failed.
   */
  async settled(): Promise<void> {
    await this.#readLoopDone;
    await this.#writeLoopDone;
  }

  ref(): void {
    this.#conn.ref();
  }

  unref(): void {
    this.#conn.unref();
  }

  #startReading(): void {
    if (this.#readActive || this.#ended) return;
    this.#readActive = true;
    this.#readLoopDone = this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    const conn = this.#conn;
    const buffer = this.#buffer;
    try {
      while (!this.#ended) {
        if (this.#paused && this.#closing === undefined) return;
        const count = await conn.read(buffer);
        if (this.#ended) return;
        if (count === null) {
          this.#endInput();
          return;
        }
        // While closing, input is only drained, to reach the peer's end.
        if (count === 0 || this.#closing !== undefined) continue;
        const bytes = count === buffer.length
          ? buffer
          : buffer.subarray(0, count);
        if (!this.#sink!.data(bytes)) this.#paused = true;
      }
    } catch (error) {
      if (this.#ended) return;
      this.#ended = true;
      this.#inputDone.resolve();
      if (this.#closing === undefined) this.#sink!.error(toError(error));
    } finally {
      // Synchronous with the loop's end, so a resume() after it starts a new loop.
      this.#readActive = false;
    }
  }

  #endInput(): void {
    this.#ended = true;
    this.#inputDone.resolve();
    // After close() began, the stream finishes on its own.
    if (this.#closing === undefined) this.#sink!.end();
  }

  async #writeLoop(): Promise<void> {
    const conn = this.#conn;
    const writes = this.#writes;
    let write: PendingWrite | undefined;
    try {
      while (!this.#destroyed && (write = writes.shift()) !== undefined) {
        const { data } = write;
        const bytes = typeof data === "string"
          ? utf8Encoder.encode(data)
          : data;
        let written = 0;
        while (written < bytes.length) {
          written += await conn.write(
            written === 0 ? bytes : bytes.subarray(written),
          );
        }
        const { done } = write;
        write = undefined;
        done();
      }
    } catch (error) {
      this.#writeError ??= this.#destroyed ? closedError() : toError(error);
      write?.done(this.#writeError);
      this.#failWrites(this.#writeError);
    } finally {
      // Synchronous with the loop's end, so a write() after it starts a new loop.
      this.#writing = false;
      this.#writesDone?.resolve();
    }
  }

  #failWrites(error: Error): void {
    const failed = this.#writes.splice(0);
    for (const { done } of failed) done(error);
    this.#writesDone?.resolve();
  }

  async #close(): Promise<void> {
    if (this.#writing) {
      this.#writesDone = Promise.withResolvers();
      await this.#writesDone.promise;
    }
    if (!this.#destroyed && await this.#shutDownOutput() && !this.#ended) {
      this.#paused = false;
      this.#startReading();
      await settlesWithin(this.#inputDone.promise, CLOSE_LINGER_MS);
    }
    this.destroy();
    await this.settled();
  }

  /** Sends our end of the stream; `false` when the connection is gone. */
  async #shutDownOutput(): Promise<boolean> {
    try {
      await this.#conn.closeWrite();
      return true;
    } catch {
      return false;
    }
  }
}

function closedError(): Error {
  return new Deno.errors.BadResource("The connection is closed.");
}
