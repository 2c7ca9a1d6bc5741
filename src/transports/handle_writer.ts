/**
 * {@linkcode HandleWriter}: writes through a socket's native handle in
 * slices the kernel takes whole or not at all, so that this process knows at
 * every moment which bytes the operating system has. That is what
 * `Deno.exit()` needs: it ends the process at once, and whatever the runtime
 * still held for the socket would be lost, in the middle of a message; the
 * exit flush writes exactly the slices still pending here.
 *
 * That a pending slice has not been written depends on the handle: it holds
 * for the runtime's TCP handle, not for its pipe handle, which writes again
 * at once before reporting a write pending (`node_socket.ts` says why, and
 * opens TCP handles on the channel's socket for that reason).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import process from "node:process";
import { ArrayQueue } from "../internal/array_queue.ts";

/**
 * The size of each write. On a Unix stream socket (Linux, default buffer
 * sizes) a write this small fits in one socket buffer, so the kernel takes it
 * whole or refuses it (`EAGAIN`), never a part: a slice the handle reports
 * pending has not been written at all, on a handle that does not write it
 * again before saying so.
 */
export const WRITE_SLICE_BYTES = 32 * 1024;

/** A write request, as the native handle calls it back. */
interface WriteRequest {
  oncomplete(status: number): void;
}

/** The parts of a socket's native handle this module uses. */
export interface NativeWriteHandle {
  /** The handle's file descriptor (a pipe handle tells; a TCP handle does not). */
  readonly fd?: number;
  /** Writes `data`: at once when the socket has room, else later. */
  writeBuffer(request: WriteRequest, data: Uint8Array): number;
}

/** Where the native layer says whether the last write had to wait. */
interface StreamBaseState {
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

/** One slice of a write, and the write's callback when it is the last one. */
interface Slice {
  bytes: Uint8Array;
  done: ((error?: Error) => void) | undefined;
}

/** The runtime's stream state, or `undefined` when it is not reachable. */
function streamState(): StreamBaseState | undefined {
  try {
    const binding = (process as unknown as {
      binding(name: string): Partial<StreamBaseState>;
    }).binding("stream_wrap");
    if (
      binding.streamBaseState instanceof Int32Array &&
      typeof binding.kLastWriteWasAsync === "number"
    ) {
      return binding as StreamBaseState;
    }
  } catch {
    // Not this runtime: the caller writes through the socket instead.
  }
  return undefined;
}

/**
 * Writes bytes through a native stream handle, each write cut into
 * {@linkcode WRITE_SLICE_BYTES} slices handed over at once, and keeps the
 * slices the handle has not written yet. Each write's `done` is called
 * (asynchronously) once its last slice is with the operating system.
 */
export class HandleWriter {
  #handle: NativeWriteHandle;
  #fd: number;
  #state: StreamBaseState;
  /** Slices handed to the handle that it has not written yet, in order. */
  #pending = new ArrayQueue<Slice>();
  #failed: Error | undefined;
  #drained: PromiseWithResolvers<void> | undefined;

  private constructor(
    handle: NativeWriteHandle,
    fd: number,
    state: StreamBaseState,
  ) {
    this.#handle = handle;
    this.#fd = fd;
    this.#state = state;
  }

  /**
   * A writer on `handle`, or `undefined` when the handle or the runtime's
   * stream state is not what this module expects.
   *
   * @param handle A native stream handle.
   * @param fd Its descriptor, when the handle does not tell (a TCP handle).
   */
  static on(handle: unknown, fd?: number): HandleWriter | undefined {
    const candidate = handle as Partial<NativeWriteHandle> | null | undefined;
    const descriptor = fd ?? candidate?.fd;
    if (
      typeof candidate?.writeBuffer !== "function" ||
      typeof descriptor !== "number" || descriptor < 0
    ) {
      return undefined;
    }
    const state = streamState();
    return state === undefined ? undefined : new HandleWriter(
      candidate as NativeWriteHandle,
      descriptor,
      state,
    );
  }

  /** The handle's file descriptor. */
  get fd(): number {
    return this.#fd;
  }

  /** `true` while slices wait for the socket to have room. */
  get waiting(): boolean {
    return this.#pending.length > 0;
  }

  /** Resolves once no slice is in flight (at once when none is). */
  drained(): Promise<void> {
    if (this.#pending.length === 0) return Promise.resolve();
    this.#drained ??= Promise.withResolvers<void>();
    return this.#drained.promise;
  }

  /**
   * Writes `data` (text as UTF-8) after everything before it.
   *
   * @param data What to write.
   * @param done Called once it is all with the operating system, or with the
   *   error that stopped it.
   */
  write(data: string | Uint8Array, done: (error?: Error) => void): void {
    if (this.#failed !== undefined) {
      const error = this.#failed;
      queueMicrotask(() => done(error));
      return;
    }
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    if (bytes.length === 0) {
      queueMicrotask(() => done());
      return;
    }
    for (let at = 0; at < bytes.length; at += WRITE_SLICE_BYTES) {
      const end = Math.min(at + WRITE_SLICE_BYTES, bytes.length);
      const slice: Slice = {
        bytes: bytes.subarray(at, end),
        done: end === bytes.length ? done : undefined,
      };
      if (!this.#submit(slice)) return;
    }
  }

  /**
   * The bytes handed over but not written yet, in order: the slices still
   * in flight. Nothing of them has reached the socket.
   */
  unwritten(): Uint8Array[] {
    const slices: Uint8Array[] = [];
    for (let i = 0; i < this.#pending.length; i++) {
      slices.push(this.#pending.at(i)!.bytes);
    }
    return slices;
  }

  /**
   * Writes `bytes` now, through the handle, while the socket takes them
   * without waiting; only when nothing is in flight.
   *
   * @returns How many bytes were written (whole slices).
   */
  writeNow(bytes: Uint8Array): number {
    if (this.#pending.length > 0 || this.#failed !== undefined) return 0;
    let at = 0;
    while (at < bytes.length) {
      const end = Math.min(at + WRITE_SLICE_BYTES, bytes.length);
      const slice: Slice = { bytes: bytes.subarray(at, end), done: undefined };
      if (!this.#submit(slice) || this.#pending.length > 0) break;
      at = end;
    }
    return at;
  }

  /**
   * The socket was closed: the writes in flight fail, and later ones at once.
   *
   * @param error Why. @default {"The IPC socket was closed with writes in flight."}
   */
  cancel(
    error = new Error("The IPC socket was closed with writes in flight."),
  ): void {
    this.#fail(error);
  }

  /** Hands one slice to the handle; `false` when the handle refused it. */
  #submit(slice: Slice): boolean {
    const request: WriteRequest = {
      oncomplete: (status) => this.#onComplete(slice, status),
    };
    const status = this.#handle.writeBuffer(request, slice.bytes);
    if (status < 0) {
      this.#fail(writeError(status));
      const done = slice.done;
      if (done !== undefined) queueMicrotask(() => done(this.#failed));
      return false;
    }
    const state = this.#state;
    if (state.streamBaseState[state.kLastWriteWasAsync] !== 0) {
      this.#pending.push(slice);
    } else if (slice.done !== undefined) {
      const done = slice.done;
      queueMicrotask(() => done());
    }
    return true;
  }

  #onComplete(slice: Slice, status: number): void {
    if (this.#pending.peek() !== slice) return; // Failed and dropped already.
    this.#pending.shift();
    if (status < 0) {
      this.#fail(writeError(status));
      callDone(slice.done, this.#failed);
      return;
    }
    if (this.#pending.length === 0) this.#settleDrained();
    callDone(slice.done);
  }

  #settleDrained(): void {
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.resolve();
  }

  /** Fails every write in flight with `error`; later writes fail at once. */
  #fail(error: Error): void {
    this.#failed ??= error;
    for (let slice; (slice = this.#pending.shift()) !== undefined;) {
      slice.done?.(error);
    }
    this.#settleDrained();
  }
}

/**
 * Calls a write's `done` from the handle's completion callback. The runtime
 * writes several queued slices, then calls their callbacks one after the
 * other: an error thrown by one `done` is rethrown once they all ran, so that
 * a process dying of it never counts a written slice as pending.
 */
function callDone(
  done: ((error?: Error) => void) | undefined,
  error?: Error,
): void {
  try {
    done?.(error);
  } catch (thrown) {
    queueMicrotask(() => {
      throw thrown;
    });
  }
}

/** The error of a failed write, from the runtime's (negative) status. */
function writeError(status: number): Error {
  const error = new Error(
    `Writing to the IPC socket failed (status ${status}): the peer has probably closed it.`,
  ) as Error & { errno: number };
  error.errno = status;
  return error;
}
