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
 * miss and writes them before it ends (`exit_writer.ts`). That handle is a
 * TCP handle of the runtime opened on the socket's descriptor, on both ends,
 * not the pipe handle `node:net` and `node:child_process` would open: see
 * {@linkcode openSocketHandle} for why.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import net from "node:net";
import process from "node:process";
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

/** A native stream handle not yet opened on a descriptor. */
interface OpenableHandle extends NativeHandle {
  open(fd: number): number;
}

/** The runtime's bindings this module opens handles with. */
interface RuntimeBindings {
  TCP: new (type: number) => OpenableHandle;
  tcpSocket: number;
  guessHandleType(fd: number): string;
  /** Where `node:child_process` opens a child's pipes: `Pipe.prototype`. */
  pipePrototype: { open(this: unknown, fd: number): number };
}

/** Deno's `EEXIST`: the descriptor is already another handle's, and untouched. */
const EEXIST = -17;

/** Deno's Node bindings, or `undefined` when this runtime lacks one of them. */
function runtimeBindings(): RuntimeBindings | undefined {
  try {
    const binding = (process as unknown as {
      binding(name: string): Record<string, unknown>;
    }).binding;
    const tcp = binding("tcp_wrap") as {
      TCP?: RuntimeBindings["TCP"];
      constants?: { SOCKET?: number };
    };
    const { guessHandleType } = binding("util") as Partial<RuntimeBindings>;
    const { Pipe } = binding("pipe_wrap") as {
      Pipe?: { prototype?: RuntimeBindings["pipePrototype"] };
    };
    const pipePrototype = Pipe?.prototype;
    if (
      typeof tcp.TCP === "function" &&
      typeof tcp.constants?.SOCKET === "number" &&
      typeof guessHandleType === "function" &&
      typeof pipePrototype?.open === "function"
    ) {
      return {
        TCP: tcp.TCP,
        tcpSocket: tcp.constants.SOCKET,
        guessHandleType,
        pipePrototype,
      };
    }
  } catch {
    // Not Deno's Node layer: the callers fall back to node:net alone.
  }
  return undefined;
}

/**
 * Opens the runtime's TCP handle on `fd`, a Unix socket: only the handle
 * type differs, the system calls on the descriptor are the same.
 *
 * Why not the pipe handle `node:net` opens: when the socket is full, both
 * handles hand the write to a queue and report it pending. Deno 2.9.6's pipe
 * handle first tries the write again with `write(2)` (`write_buffer` in
 * `ext/node/ops/stream_wrap.rs` calls `uv_write`, whose `write_pipe` in
 * `libs/core/uv_compat/stream.rs` writes at once when its queue is empty):
 * when the peer read in between, the bytes went out although the write is
 * reported pending, and nothing the runtime exposes says so. Its TCP handle
 * tries again through tokio, which does not call the system until the event
 * loop has seen the socket become writable (`uv_writev_owned`), so a write
 * reported pending has not been written at all. The exit flush depends on
 * that: it writes what is pending a second time.
 *
 * @returns The open handle.
 * @throws {Error} When `fd` is not a socket, or the handle cannot open it
 *   (`errno` -17, `EEXIST`: another handle has it, and it is untouched).
 */
function openSocketHandle(
  runtime: RuntimeBindings,
  fd: number,
): OpenableHandle {
  const type = runtime.guessHandleType(fd);
  if (type !== "PIPE" && type !== "TCP") {
    throw new Error(`Unsupported fd type: ${type}`);
  }
  const handle = new runtime.TCP(runtime.tcpSocket);
  const status = handle.open(fd);
  if (status !== 0) {
    throw Object.assign(
      new Error(`Opening fd ${fd} failed (status ${status}).`),
      { errno: status },
    );
  }
  return handle;
}

/** What {@linkcode NodeSocketTransport.spawnChild} needs of a child process. */
export interface SpawnedChild {
  readonly stdio: readonly unknown[];
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
    fd?: number,
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
      fd,
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
    const runtime = runtimeBindings();
    if (runtime === undefined) {
      return new NodeSocketTransport(
        (onread) =>
          new net.Socket({ fd, readable: true, writable: true, onread }),
        true,
      );
    }
    return NodeSocketTransport.#onHandle(openSocketHandle(runtime, fd), fd);
  }

  /**
   * Runs `spawnChild`, a `node:child_process` spawn with `stdio[fd]` set to
   * `"pipe"`, so that the runtime does not open the parent's end of that
   * socket as a pipe handle (see {@linkcode openSocketHandle}): while it
   * runs, `Pipe.prototype.open` only records what it is asked; afterwards
   * every other pipe is opened as the runtime asked (nothing reads or writes
   * them before this returns), and a TCP handle is opened on the channel's.
   *
   * @returns The child, and a transport on its channel; `transport` is
   *   `undefined` when this runtime opens its pipes another way (then adopt
   *   `child.stdio[fd]`, which is opened as usual).
   * @throws {Error} What `spawnChild` throws, or when no handle could be
   *   opened on the channel's descriptor.
   */
  static spawnChild<C extends SpawnedChild>(
    spawnChild: () => C,
    fd: number,
  ): { child: C; transport: NodeSocketTransport | undefined } {
    const runtime = runtimeBindings();
    if (runtime === undefined) {
      return { child: spawnChild(), transport: undefined };
    }
    const prototype = runtime.pipePrototype;
    const open = prototype.open;
    const asked: [pipe: unknown, fd: number][] = [];
    prototype.open = function (this: unknown, fd: number): number {
      asked.push([this, fd]);
      return 0;
    };
    let spawned: C | undefined;
    let channelFd: number | undefined;
    try {
      spawned = spawnChild();
    } finally {
      prototype.open = open;
      const channel = spawned?.stdio[fd] as { _handle?: unknown } | undefined;
      for (const [pipe, pipeFd] of asked) {
        if (
          channelFd === undefined && channel != null &&
          pipe === channel._handle
        ) {
          channelFd = pipeFd;
        } else {
          open.call(pipe, pipeFd);
        }
      }
    }
    const child = spawned;
    const channel = child.stdio[fd] as net.Socket | null | undefined;
    if (channelFd === undefined || channel == null) {
      return { child, transport: undefined };
    }
    let handle: OpenableHandle;
    try {
      handle = openSocketHandle(runtime, channelFd);
    } catch (error) {
      if ((error as { errno?: number }).errno !== EEXIST) {
        channel.destroy();
        throw error;
      }
      // Still untouched: let the pipe handle have it, as without this.
      open.call(
        (channel as unknown as { _handle: unknown })._handle,
        channelFd,
      );
      return { child, transport: undefined };
    }
    // Its pipe handle was never opened: closing it closes no descriptor, and
    // the child process counts the socket's close as usual.
    channel.destroy();
    return {
      child,
      transport: NodeSocketTransport.#onHandle(handle, channelFd),
    };
  }

  /** A transport on `handle`, a TCP handle open on descriptor `fd`. */
  static #onHandle(handle: OpenableHandle, fd: number): NodeSocketTransport {
    return new NodeSocketTransport(
      (onread) => {
        const options = { handle, readable: true, writable: true, onread };
        return new net.Socket(options as net.SocketConstructorOpts);
      },
      true,
      fd,
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
    for (const chunk of data) {
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    }
    let bytes: Uint8Array = Buffer.concat(chunks);
    bytes = bytes.subarray(writer.writeNow(bytes));
    // What the handle still holds is written again by the exit writer.
    const inFlight = writer.waiting;
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
