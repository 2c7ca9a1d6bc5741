/**
 * The transport seams under an {@linkcode IpcJsonStream}.
 *
 * - {@linkcode IpcTransport} moves bytes (a socketpair, a Unix socket, TCP, a
 *   pair of Web streams): the channel frames messages with its codec, and
 *   the transport only reads, writes, pauses and closes.
 * - {@linkcode IpcMessageTransport} carries whole messages (Deno's
 *   `process.send()` channel, a Worker's port): the channel hands it values
 *   and gets values back, with no codec in between.
 *
 * @module
 */

import type { IpcMessageTooLargeError, IpcProtocolError } from "../errors.ts";

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
  /**
   * The input ended: the peer closed its end. `reason` says why when the
   * transport knows more (a child process that crashed).
   */
  end(reason?: Error): void;
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
  /** Not a message transport. */
  readonly carriesMessages?: false;
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
  /**
   * Optional: called when the process exits (`unload`, which `Deno.exit()`
   * fires) with what is still queued. Writes the writes still in flight, then
   * `data`, before returning, within a deadline of its choosing. Without it,
   * `data` is handed to `write()`, and what the operating system does not
   * take at once is lost.
   *
   * @param data The writes still queued, in order.
   * @returns The bytes that could not be written, or `undefined` when the
   *   transport cannot tell.
   */
  writeAtExit?(data: readonly (string | Uint8Array)[]): number | undefined;
  /** Writes what is queued, then closes both directions. */
  close(): Promise<void>;
  /** Closes at once, dropping queued writes. */
  destroy(): void;
  /** Keeps the process alive while the transport is open. */
  ref(): void;
  /** Lets the process exit even though the transport is open. */
  unref(): void;
}

/** What a message transport reports to the stream that owns it. */
export interface IpcMessageSink {
  /**
   * A message arrived.
   *
   * @param message The message, already decoded.
   * @param size Its size for the receive buffer's accounting, in bytes.
   * @returns `false` to ask the transport to hold further messages until
   *   `resume()`.
   */
  message(message: unknown, size: number): boolean;
  /** The peer closed the channel; `reason` says why when known. */
  end(reason?: Error): void;
  /** The transport failed; no more calls follow. */
  error(error: Error): void;
  /**
   * The peer sent something that is not a valid message (malformed, or over
   * `maxMessageBytes`): the channel fails reading after the messages before
   * it, as for bad bytes. No more calls follow.
   */
  badInput(error: IpcProtocolError | IpcMessageTooLargeError): void;
}

/**
 * A channel that carries whole messages, such as the runtime's own
 * `process.send()` channel or a Worker's port: an {@linkcode IpcJsonStream}
 * over it sends values as they are, without encoding them to bytes.
 *
 * @example A loopback that hands every message back
 * ```ts
 * import { IpcJsonStream, type IpcMessageSink, type IpcMessageTransport } from "@tether/ipc";
 *
 * class Loopback implements IpcMessageTransport {
 *   readonly carriesMessages = true;
 *   #sink?: IpcMessageSink;
 *   start(sink: IpcMessageSink) { this.#sink = sink; }
 *   resume() {}
 *   measure(message: unknown) { return JSON.stringify(message)?.length ?? 0; }
 *   write(messages: readonly unknown[], done: (error?: Error) => void) {
 *     queueMicrotask(() => {
 *       for (const message of messages) this.#sink?.message(message, 0);
 *       done();
 *     });
 *   }
 *   close() { this.#sink?.end(); return Promise.resolve(); }
 *   destroy() {}
 *   ref() {}
 *   unref() {}
 * }
 *
 * const ipc = new IpcJsonStream(new Loopback());
 * await ipc.send({ hello: "myself" });
 * console.log(await ipc.receive()); // { hello: "myself" }
 * await ipc.close();
 * ```
 */
export interface IpcMessageTransport {
  /** Marks a transport of whole messages. */
  readonly carriesMessages: true;
  /**
   * `true` when it moves the transferables of `send(message, { transfer })`
   * (it then gets them as a `TransferringMessage`).
   */
  readonly transfers?: boolean;
  /** Starts receiving, reporting to `sink`. Called once. */
  start(sink: IpcMessageSink): void;
  /** Receiving was paused by `sink.message()` returning `false`: start again. */
  resume(): void;
  /**
   * Checks that the transport can carry `message` and tells its size, for
   * the send buffer's accounting.
   *
   * @param message The message about to be sent.
   * @param maxMessageBytes The largest message allowed.
   * @returns Its size in bytes (an estimate where the transport cannot know).
   * @throws {TypeError} When the transport cannot carry it.
   * @throws {IpcMessageTooLargeError} When it is over `maxMessageBytes`.
   */
  measure(message: unknown, maxMessageBytes: number): number;
  /**
   * Sends `messages` in order, after everything sent before.
   *
   * @param messages The messages.
   * @param done Called once they are on their way, or with the error that
   *   stopped them.
   */
  write(messages: readonly unknown[], done: (error?: Error) => void): void;
  /** Sends what is queued, then closes. */
  close(): Promise<void>;
  /** Closes at once, dropping queued messages. */
  destroy(): void;
  /** Keeps the process alive while the transport is open. */
  ref(): void;
  /** Lets the process exit even though the transport is open. */
  unref(): void;
}
