/**
 * {@linkcode SendQueue}: when sent messages are written, the backpressure
 * that bounds them, and the flush: `ipc.flush()` ({@linkcode flushSent}) and
 * what is written when the process exits, at `unload` (`Deno.exit()`, a
 * normal end) or at an uncaught error ({@linkcode endsProcess}), for which
 * `unload` does not fire.
 *
 * @module
 */

import process from "node:process";
import type { MessageEncoder } from "../codec/codec.ts";
import type { ChannelLifecycle } from "./lifecycle.ts";

/**
 * With no write in flight, queued messages are written as soon as they reach
 * this many bytes, without waiting for the sender to pause: large enough that
 * a write costs little per message, small enough to keep the pipe busy while
 * the sender goes on serializing.
 */
const FLUSH_BYTES = 64 * 1024;

const RESOLVED: Promise<void> = Promise.resolve();

/** What a {@linkcode SendQueue} tells its channel. */
export interface SendQueueEvents {
  /** A write failed: the channel is broken. */
  writeFailed(error: Error): void;
  /** `busy` may have changed (the process is kept alive while it is `true`). */
  busyChanged(): void;
}

/** What the channel needs of its {@linkcode SendQueue}, whatever it writes. */
export interface Sender {
  /** `true` while a write is in flight or a sender waits for room. */
  readonly busy: boolean;
  /** Messages sent. */
  readonly messagesOut: number;
  /** Bytes written. */
  readonly bytesOut: number;
  /** Queues a message: see {@linkcode SendQueue.send}. */
  send(message: unknown): Promise<void>;
  /** Queues a heartbeat signal: see {@linkcode SendQueue.signal}. */
  signal(signal: number): void;
  /** `true` once something sent could not be written (a failed write, or dropped by `stop()`). */
  readonly lost: boolean;
  /** Hands everything queued to the transport: see {@linkcode SendQueue.flushAll}. */
  flushAll(): Promise<void>;
  /** Stops: see {@linkcode SendQueue.stop}. */
  stop(error: Error): void;
}

/**
 * Schedules the writes of a channel: one write in flight at a time; messages
 * sent meanwhile wait in the encoder and go out together in the next write.
 * A burst of sends in one tick is written at once when it ends. Past
 * `sendBufferBytes` queued, `send()` returns a promise that waits for the
 * peer to read.
 *
 * @typeParam D What a write holds: text or bytes, or a batch of messages.
 */
export class SendQueue<D> implements Sender {
  #encoder: MessageEncoder<D>;
  #write: (data: D, done: (error?: Error) => void) => void;
  #sendBufferBytes: number;
  #events: SendQueueEvents;
  #writing = false;
  #flushScheduled = false;
  /** Queue length seen by the last pass of the flush tick. */
  #lengthSeen = 0;
  #drain: PromiseWithResolvers<void> | undefined;
  /** Writes handed over by `flushAll()` that are not done yet. */
  #extraWrites = 0;
  #allWritten: PromiseWithResolvers<void> | undefined;
  #messagesOut = 0;
  #bytesOut = 0;
  #writeAtExit: WriteAtExit<D> | undefined;
  #lost = false;

  /**
   * @param encoder Where messages wait, encoded for the transport.
   * @param write Hands one write to the transport.
   * @param sendBufferBytes How many bytes may wait before `send()` waits.
   * @param events What to tell the channel.
   * @param writeAtExit The transport's way to write before the process
   *   ends, if it has one.
   */
  constructor(
    encoder: MessageEncoder<D>,
    write: (data: D, done: (error?: Error) => void) => void,
    sendBufferBytes: number,
    events: SendQueueEvents,
    writeAtExit?: WriteAtExit<D>,
  ) {
    this.#writeAtExit = writeAtExit;
    this.#encoder = encoder;
    this.#write = write;
    this.#sendBufferBytes = sendBufferBytes;
    this.#events = events;
    globalThis.addEventListener("unload", this.#flushOnExit);
    for (const type of FATAL_EVENTS) {
      globalThis.addEventListener(type, this.#flushOnFatalError);
    }
  }

  /** `true` while a write is in flight or a sender waits for room. */
  get busy(): boolean {
    return this.#writing || this.#drain !== undefined || this.#extraWrites > 0;
  }

  /** `true` once something sent could not be written. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Messages sent. */
  get messagesOut(): number {
    return this.#messagesOut;
  }

  /** Bytes written (UTF-16 units for JSON text: see `IpcStreamStats.bytesOut`). */
  get bytesOut(): number {
    return this.#bytesOut;
  }

  /**
   * Queues `message` and schedules its write.
   *
   * @returns A promise resolved at once while under `sendBufferBytes`, else
   *   once the peer has read enough; rejected when the message cannot be
   *   sent, with nothing written.
   */
  send(message: unknown): Promise<void> {
    const encoder = this.#encoder;
    try {
      encoder.push(message);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#messagesOut++;
    const queued = this.#schedule();
    if (queued <= this.#sendBufferBytes) return RESOLVED;
    if (this.#drain === undefined) {
      this.#drain = Promise.withResolvers<void>();
      this.#events.busyChanged();
    }
    return this.#drain.promise;
  }

  /**
   * Queues a heartbeat signal after the messages queued so far, without
   * counting it as a message or waiting for room (it is a few bytes).
   */
  signal(signal: number): void {
    const encoder = this.#encoder;
    if (encoder.pushSignal === undefined) return;
    encoder.pushSignal(signal);
    this.#schedule();
  }

  /** Schedules the write of what is queued; returns the bytes still queued. */
  #schedule(): number {
    if (this.#writing) return this.#encoder.size;
    if (this.#encoder.size >= FLUSH_BYTES) {
      this.#writeNext();
    } else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      this.#lengthSeen = 0;
      queueMicrotask(this.#flushTick);
    }
    return this.#encoder.size;
  }

  /**
   * Hands everything queued to the transport at once, without waiting for
   * the write in flight: for closing, and for `Deno.exit()`, which ends the
   * process without running microtasks.
   *
   * @returns A promise resolved once every write handed over so far is done.
   */
  flushAll(): Promise<void> {
    for (let batch; (batch = this.#encoder.take()) !== undefined;) {
      if (this.#extraWrites++ === 0) this.#events.busyChanged();
      this.#write(batch.data, this.#onExtraWritten);
    }
    if (!this.#writing && this.#extraWrites === 0) return RESOLVED;
    this.#allWritten ??= Promise.withResolvers<void>();
    return this.#allWritten.promise;
  }

  /** Drops what is queued and rejects a sender waiting for room with `error`. */
  stop(error: Error): void {
    globalThis.removeEventListener("unload", this.#flushOnExit);
    for (const type of FATAL_EVENTS) {
      globalThis.removeEventListener(type, this.#flushOnFatalError);
    }
    if (this.#encoder.size > 0 || this.#writing || this.#extraWrites > 0) {
      this.#lost = true;
    }
    this.#encoder.clear();
    const drain = this.#drain;
    if (drain !== undefined) {
      this.#drain = undefined;
      drain.reject(error);
    }
    this.#allWritten?.resolve();
    this.#allWritten = undefined;
  }

  /**
   * On `Deno.exit()`, which ends the process without running microtasks:
   * writes everything queued through the transport's exit writer, or else
   * hands it to the transport at once (a socket with room takes the bytes
   * synchronously; the rest is lost).
   */
  #flushOnExit = (): void => {
    if (this.#writeAtExit === undefined) this.flushAll();
    else flushAtExit(this.#encoder, this.#writeAtExit);
  };

  /**
   * On an uncaught exception or rejection that is about to end the process:
   * `unload` will not fire, and no event-loop turn comes after.
   */
  #flushOnFatalError = (event: Event): void => {
    if (endsProcess(event)) this.#flushOnExit();
  };

  /**
   * Runs as a microtask after a send while no write is in flight. While
   * each pass finds more messages (a sender awaiting `send()` in a loop adds
   * one per microtask) it passes again, so the whole burst goes out in one
   * write; the first pass that finds nothing new writes.
   */
  #flushTick = (): void => {
    const length = this.#encoder.length;
    if (length !== 0 && length !== this.#lengthSeen) {
      this.#lengthSeen = length;
      queueMicrotask(this.#flushTick);
    } else {
      this.#flushScheduled = false;
      this.#writeNext();
    }
  };

  /** Starts the next write, unless one is in flight or nothing is queued. */
  #writeNext(): void {
    if (this.#writing) return;
    const batch = this.#encoder.take();
    if (batch === undefined) return;
    const size = batch.size;
    this.#writing = true;
    this.#events.busyChanged();
    this.#write(batch.data, (error) => this.#onWritten(size, error));
  }

  #onWritten(size: number, error: Error | undefined): void {
    this.#writing = false;
    if (error !== undefined) {
      this.#lost = true;
      this.#settleAllWritten();
      this.#events.writeFailed(error);
      return;
    }
    this.#bytesOut += size;
    // What was queued meanwhile is ready: write it at once.
    this.#writeNext();
    this.#releaseDrain();
    this.#settleAllWritten();
    this.#events.busyChanged();
  }

  /** Lets a sender waiting for room go on once the queue is under the limit. */
  #releaseDrain(): void {
    const drain = this.#drain;
    if (drain !== undefined && this.#encoder.size <= this.#sendBufferBytes) {
      this.#drain = undefined;
      drain.resolve();
      this.#events.busyChanged();
    }
  }

  #onExtraWritten = (error?: Error): void => {
    if (--this.#extraWrites === 0) this.#events.busyChanged();
    if (error !== undefined) this.#lost = true;
    else this.#releaseDrain();
    this.#settleAllWritten();
    if (error !== undefined) this.#events.writeFailed(error);
  };

  #settleAllWritten(): void {
    if (
      this.#allWritten !== undefined && !this.#writing &&
      this.#extraWrites === 0
    ) {
      this.#allWritten.resolve();
      this.#allWritten = undefined;
    }
  }
}

// The flush ---------------------------------------------------------------

/**
 * Resolves once everything `sender` was given is written (with the
 * operating system); rejects with the channel's `IpcClosedError` when some of
 * it never will be: a write failed, or the channel closed first.
 */
export async function flushSent(
  sender: Sender,
  life: ChannelLifecycle,
): Promise<void> {
  await sender.flushAll();
  if (sender.lost) throw life.closedError("flush the messages sent");
}

/** Writes what the transport still holds, then the given writes, before the process ends. */
export type WriteAtExit<D> = (data: D[]) => number | undefined;

/**
 * Hands everything `encoder` still holds to `writeAtExit`, which writes it
 * before the process ends; when some of it could not be written (the peer
 * did not read), says so on stderr: nothing else can tell anyone any more.
 *
 * @param encoder The messages queued and not written yet.
 * @param writeAtExit The transport's exit writer.
 */
export function flushAtExit<D>(
  encoder: MessageEncoder<D>,
  writeAtExit: WriteAtExit<D>,
): void {
  const writes: D[] = [];
  for (let batch; (batch = encoder.take()) !== undefined;) {
    writes.push(batch.data);
  }
  const dropped = writeAtExit(writes);
  if (dropped !== undefined && dropped > 0) {
    console.error(
      `@tether/ipc: the process exited while the peer was not reading: dropped ${dropped} bytes of sent messages. ` +
        `Have the peer read, or await ipc.flush() (or close()) before exiting to know.`,
    );
  }
}

/** The events after which an uncaught error ends the process, with no `unload`. */
export const FATAL_EVENTS = ["error", "unhandledrejection"] as const;

/**
 * `true` when `event`, an `error` or `unhandledrejection` event being
 * dispatched, is going to end the process: no listener before this one
 * called `preventDefault()`, and no Node-style `process` listener
 * (`uncaughtException`, `unhandledRejection`), which runs after every
 * global listener, will handle it. A global listener added after this one
 * could still keep the process alive: the exit writer is safe for that.
 */
export function endsProcess(event: Event): boolean {
  if (event.defaultPrevented) return false;
  if (
    process.listenerCount("uncaughtException") > 0 ||
    process.hasUncaughtExceptionCaptureCallback()
  ) {
    return false;
  }
  return event.type !== "unhandledrejection" ||
    process.listenerCount("unhandledRejection") === 0;
}
