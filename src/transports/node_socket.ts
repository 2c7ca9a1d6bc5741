/**
 * The transport over a `node:net` socket: the socketpair between a parent and
 * its child, on both sides.
 *
 * Reads use `net.Socket`'s `onread` option: the runtime reads straight into
 * one reused buffer and calls back with the byte count, skipping the
 * `Readable` stream machinery and the copy `data` events make of each chunk
 * (several times faster: see `bench/optimizations.md`).
 *
 * Writes go through the socket's native handle in slices (`handle_writer.ts`),
 * so that at `Deno.exit()` this process knows which bytes the peer may still
 * miss and writes them before it ends (`exit_writer.ts`).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import net from "node:net";
import { settlesWithin } from "../internal/deadline.ts";
import { writeBeforeExit } from "./exit_writer.ts";
import { HandleWriter } from "./handle_writer.ts";
import type { IpcTransport, IpcTransportSink } from "./transport.ts";

/**
 * Size of the reused read buffer. 64 KiB is what the runtime reads per call
 * anyway (its `data` events average ~60 KiB) and what Deno's own IPC uses.
 */
export const READ_BUFFER_BYTES = 64 * 1024;

/**
 * How long `close()` waits for queued data to be written before it closes the
 * socket anyway: the peer stopped reading.
 */
const CLOSE_GRACE_MS = 2000;

/**
 * At exit, how long the peer may read nothing before what is left unwritten
 * is dropped (and the exit goes ahead).
 */
export const EXIT_STALL_MS = 2000;

/** Why the socket closed when the process went on after its exit flush. */
const AFTER_EXIT_FLUSH =
  "The process was ending on an uncaught error, so the channel wrote out what was sent and closed its socket; " +
  "then a listener kept the process alive (preventDefault()). Add such a listener before opening the channel, " +
  "or handle the error where it is thrown.";

/** The parts of a socket's native handle this module relies on. */
interface NativeHandle {
  readStart(): number;
}

/** A `net.Socket` transport that reads into a reused buffer. */
export class NodeSocketTransport implements IpcTransport {
  readonly reusesReadBuffer: boolean;
  #socket: net.Socket;
  /** Writes through the native handle; `undefined` when it is not reachable. */
  #writer: HandleWriter | undefined;
  #sink: IpcTransportSink | undefined;
  #buffer: Uint8Array | undefined;
  #ended = false;
  #chunksRead = 0;

  private constructor(
    create: (onread: net.OnReadOpts | undefined) => net.Socket,
    useOnread: boolean,
  ) {
    this.#buffer = useOnread ? new Uint8Array(READ_BUFFER_BYTES) : undefined;
    this.reusesReadBuffer = useOnread;
    this.#socket = create(
      this.#buffer === undefined ? undefined : {
        buffer: this.#buffer,
        callback: (bytesRead, buffer) => this.#onRead(bytesRead, buffer),
      },
    );
    const socket = this.#socket;
    this.#writer = HandleWriter.on(
      (socket as unknown as { _handle?: unknown })._handle,
    );
    if (!useOnread) {
      socket.on("data", (chunk: Uint8Array) => {
        if (!this.#onRead(chunk.length, chunk)) socket.pause();
      });
    }
    socket.on("end", () => this.#onEnd());
    socket.on("close", () => this.#onEnd());
    socket.on("error", (error) => {
      if (this.#ended) return;
      this.#ended = true;
      this.#sink?.error(error);
    });
  }

  /**
   * Opens the socket on file descriptor `fd` (the child's end of the channel).
   *
   * @throws {Error} When `fd` is not a socket or pipe (the runtime's own
   *   descriptors are refused as "Unsupported fd type").
   */
  static fromFd(fd: number): NodeSocketTransport {
    return new NodeSocketTransport(
      (onread) =>
        new net.Socket({ fd, readable: true, writable: true, onread }),
      true,
    );
  }

  /**
   * Takes over `socket` (the parent's end of the channel, which
   * `node:child_process` creates without `onread`): a new socket is built on
   * its native handle with the reused read buffer. Falls back to `data`
   * events on the socket itself when the handle is not reachable.
   */
  static adopt(socket: net.Socket): NodeSocketTransport {
    const internals = socket as unknown as { _handle?: NativeHandle | null };
    const handle = internals._handle;
    if (typeof handle?.readStart !== "function") {
      return new NodeSocketTransport(() => socket, false);
    }
    return new NodeSocketTransport((onread) => {
      const options = { handle, readable: true, writable: true, onread };
      const adopted = new net.Socket(options as net.SocketConstructorOpts);
      // The old socket must not close the handle it no longer owns.
      internals._handle = null;
      return adopted;
    }, true);
  }

  /** Chunks read so far; lets a caller tell whether data is still arriving. */
  get chunksRead(): number {
    return this.#chunksRead;
  }

  /** `true` once the input ended or the socket closed or failed. */
  get ended(): boolean {
    return this.#ended;
  }

  /** `true` while reading is paused because the stream asked for it. */
  get paused(): boolean {
    return this.#socket.isPaused();
  }

  start(sink: IpcTransportSink): void {
    this.#sink = sink;
  }

  resume(): void {
    if (!this.#ended) this.#socket.resume();
  }

  write(data: string | Uint8Array, done: (error?: Error) => void): void {
    if (this.#writer !== undefined) this.#writer.write(data, done);
    else this.#socket.write(data, (error) => done(error ?? undefined));
  }

  /**
   * Writes, before the process ends, the slices still in flight and then
   * `data`, blocking until they are written or the peer has read nothing for
   * {@linkcode EXIT_STALL_MS}.
   *
   * @returns The bytes dropped; `undefined` when the socket's handle is not
   *   reachable and `data` could only be handed to the socket.
   */
  writeAtExit(data: readonly (string | Uint8Array)[]): number | undefined {
    const writer = this.#writer;
    if (this.#socket.destroyed) return 0;
    if (writer === undefined) {
      for (const chunk of data) this.#socket.write(chunk);
      return undefined;
    }
    const chunks = writer.unwritten();
    const inFlight = chunks.length > 0;
    for (const chunk of data) {
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    }
    let bytes: Uint8Array = Buffer.concat(chunks);
    bytes = bytes.subarray(writer.writeNow(bytes));
    const dropped = bytes.length -
      writeBeforeExit(writer.fd, bytes, EXIT_STALL_MS);
    if (inFlight || dropped > 0) {
      // Should the process go on after all (a listener that handled the
      // uncaught error came after the channel's), this handle would write
      // the slices in flight a second time, or after a gap: close it first.
      writer.cancel(new Error(AFTER_EXIT_FLUSH));
      this.#socket.destroy();
    }
    return dropped;
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed) return;
    const closed = new Promise<void>((resolve) =>
      socket.once("close", resolve)
    );
    // The socket's end() does not know of the writes made on its handle.
    const writer = this.#writer;
    if (
      writer !== undefined &&
      !await settlesWithin(writer.drained(), CLOSE_GRACE_MS)
    ) {
      socket.destroy();
      return;
    }
    if (socket.destroyed) return;
    socket.end(() => socket.destroy());
    // A peer that reads nothing would keep end() waiting for ever.
    if (!await settlesWithin(closed, CLOSE_GRACE_MS)) socket.destroy();
  }

  destroy(): void {
    this.#socket.destroy();
    this.#writer?.cancel();
  }

  /**
   * Ends the input as if the peer had closed, then closes the socket. For a
   * peer that is gone while another process (a grandchild that inherited the
   * descriptor) keeps the socket open, so no end-of-file would ever come.
   */
  finish(): void {
    this.#onEnd();
    this.#socket.destroy();
    this.#writer?.cancel();
  }

  ref(): void {
    this.#socket.ref();
  }

  unref(): void {
    this.#socket.unref();
  }

  #onRead(bytesRead: number, buffer: Uint8Array): boolean {
    this.#chunksRead++;
    const sink = this.#sink;
    if (sink === undefined || this.#ended) return true;
    return sink.data(
      bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead),
    );
  }

  #onEnd(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#sink?.end();
  }
}
