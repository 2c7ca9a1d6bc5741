/**
 * The transport over a `node:net` socket: the socketpair between a parent and
 * its child, on both sides.
 *
 * Reads use `net.Socket`'s `onread` option: the runtime reads straight into
 * one reused buffer and calls back with the byte count, skipping the
 * `Readable` stream machinery and the copy `data` events make of each chunk
 * (several times faster: see `bench/optimizations.md`).
 *
 * @module
 */

import net from "node:net";
import { settlesWithin } from "../internal/deadline.ts";
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

/** The parts of a socket's native handle this module relies on. */
interface NativeHandle {
  readStart(): number;
}

/** A `net.Socket` transport that reads into a reused buffer. */
export class NodeSocketTransport implements IpcTransport {
  readonly reusesReadBuffer: boolean;
  #socket: net.Socket;
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
    this.#socket.write(data, (error) => done(error ?? undefined));
  }

  close(): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed) return Promise.resolve();
    const closed = new Promise<void>((resolve) =>
      socket.once("close", resolve)
    );
    socket.end(() => socket.destroy());
    // A peer that reads nothing would keep end() waiting for ever.
    return settlesWithin(closed, CLOSE_GRACE_MS).then((inTime) => {
      if (!inTime) socket.destroy();
    });
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /**
   * Ends the input as if the peer had closed, then closes the socket. For a
   * peer that is gone while another process (a grandchild that inherited the
   * descriptor) keeps the socket open, so no end-of-file would ever come.
   */
  finish(): void {
    this.#onEnd();
    this.#socket.destroy();
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
