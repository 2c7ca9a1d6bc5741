/**
 * The byte transport under an {@linkcode IpcJsonStream}: whatever moves bytes
 * between the two processes (a socketpair, a Unix socket, a pair of Web
 * streams). The stream does the framing; a transport only reads, writes,
 * pauses and closes.
 *
 * @module
 */

/** What a transport reports to the stream that owns it. */
export interface IpcTransportSink {
  /**
   * New bytes arrived.
   *
   * @param bytes The bytes. When the transport's `reusesReadBuffer` is `true`
   *   they are only valid until this call returns.
   * @returns `false` to ask the transport to stop reading until `resume()`.
   */
  data(bytes: Uint8Array): boolean;
  /** The input ended cleanly: the peer closed its end. */
  end(): void;
  /** The transport failed; no more calls follow. */
  error(error: Error): void;
}

/**
 * A bidirectional byte channel that an {@linkcode IpcJsonStream} can run on.
 * Implement it to carry messages over a transport of your own.
 *
 * @example A transport over a pair of Web streams (what `IpcJsonStream` builds from `{ readable, writable }`)
 * ```ts
 * import { IpcJsonStream, type IpcTransport, type IpcTransportSink } from "@tether/ipc";
 *
 * class LoopbackTransport implements IpcTransport {
 *   readonly reusesReadBuffer = false;
 *   #sink?: IpcTransportSink;
 *   start(sink: IpcTransportSink) { this.#sink = sink; }
 *   resume() {}
 *   write(data: string | Uint8Array, done: (error?: Error) => void) {
 *     const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
 *     queueMicrotask(() => { this.#sink?.data(bytes); done(); });
 *   }
 *   close() { this.#sink?.end(); return Promise.resolve(); }
 *   destroy() {}
 *   ref() {}
 *   unref() {}
 * }
 *
 * const ipc = new IpcJsonStream(new LoopbackTransport());
 * await ipc.send({ hello: "myself" });
 * console.log(await ipc.receive()); // { hello: "myself" }
 * await ipc.close();
 * ```
 */
export interface IpcTransport {
  /** `true` when the bytes given to `sink.data()` are overwritten after the call returns. */
  readonly reusesReadBuffer: boolean;
  /** Starts reading, reporting to `sink`. Called once, right after construction of the stream. */
  start(sink: IpcTransportSink): void;
  /** Reading was paused by `sink.data()` returning `false`: start again. */
  resume(): void;
  /**
   * Writes `data` (a string is written as UTF-8) after everything written before.
   *
   * @param data The bytes or text.
   * @param done Called once the data is with the operating system, or with the error that prevented it.
   */
  write(data: string | Uint8Array, done: (error?: Error) => void): void;
  /** Writes what is queued, then closes both directions. */
  close(): Promise<void>;
  /** Closes at once, dropping queued writes. */
  destroy(): void;
  /** Keeps the process alive while the transport is open. */
  ref(): void;
  /** Lets the process exit even though the transport is open. */
  unref(): void;
}
