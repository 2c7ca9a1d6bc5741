/**
 * The receiving side of a channel: {@linkcode incomingFilter}, what happens
 * to a received plain message first (`nodeCompat`, `validate`), and
 * {@linkcode ReceiveQueue}, the messages waiting for the iterator and the
 * backpressure that bounds them and the calls waiting to run
 * (`receiveOverflow`, `maxConcurrentCalls`).
 *
 * @module
 */

import type { CallReceiving } from "../calls/incoming_limit.ts";
import { ArrayQueue } from "../internal/array_queue.ts";
import { AsyncQueue } from "../internal/async_queue.ts";
import type { IpcJsonStreamOptions, StreamSettings } from "./options.ts";
import { IpcValidationError } from "../errors.ts";
import { compileValidator } from "./validation.ts";

/** What a {@linkcode ReceiveQueue} tells its channel. */
export interface ReceiveQueueEvents {
  /** The consumer caught up: reading from the peer may start again. */
  resume(): void;
  /** A reader started or stopped waiting (the process is kept alive while one waits). */
  waitingChanged(): void;
}

/**
 * Parsed plain messages wait here, each weighing its size in bytes, until
 * the iterator takes them. Past `receiveBufferBytes`, with `receiveOverflow:
 * "pause"`, the queue is {@linkcode ReceiveQueue.full} and the channel stops
 * reading from the peer (whose `send()` then waits in turn) until the
 * consumer has taken the queue down to half; with `"drop"`, reading goes on
 * and the messages that arrive meanwhile are dropped and counted. Reading
 * also pauses while the calls waiting to run are over the same bound (see
 * `IncomingLimit`); calls and answers never wait in this queue.
 *
 * @typeParam T The type of the messages.
 */
export class ReceiveQueue<T> extends AsyncQueue<T> implements CallReceiving {
  readonly limitBytes: number;
  readonly maxConcurrentCalls: number;
  /** The peer's calls waiting to run, which also hold reading when over the bound. */
  #calls: { readonly full: boolean } | undefined;
  #drop: boolean;
  #paused = false;
  #dropped = 0;
  #events: ReceiveQueueEvents;
  /** Buffered messages taken so far, by the iterator or by the call layer. */
  #taken = 0;
  /** Which buffered messages stay for the iterator, once the call layer is there to take the others. */
  #handOver: ((item: T) => boolean) | undefined;
  /** Callbacks waiting for a count of `#taken`, in order. */
  #afterTaken = new ArrayQueue<{ target: number; callback: () => void }>();

  /**
   * @param settings The channel's options: `receiveBufferBytes`,
   *   `receiveOverflow`, `maxConcurrentCalls`.
   * @param events What to tell the channel.
   */
  constructor(settings: StreamSettings, events: ReceiveQueueEvents) {
    super({
      taken: (bytes) => {
        this.#taken++;
        this.#runAfterTaken();
        if (this.#paused && bytes <= this.limitBytes / 2) {
          this.#paused = false;
          if (this.#calls?.full !== true) events.resume();
        }
      },
      waitingChanged: () => events.waitingChanged(),
    });
    this.#events = events;
    this.limitBytes = settings.receiveBufferBytes;
    this.maxConcurrentCalls = settings.maxConcurrentCalls;
    this.#drop = settings.receiveOverflow === "drop";
  }

  /** From now on, reading also pauses while `calls` is full (the call layer's waiting calls). */
  holdForCalls(calls: { readonly full: boolean }): void {
    this.#calls = calls;
  }

  /** Plain messages dropped because the queue was full (`receiveOverflow: "drop"`). */
  get dropped(): number {
    return this.#dropped;
  }

  /** `true` while reading is paused behind unread plain messages. */
  get plainFull(): boolean {
    return !this.#drop && this.weight > this.limitBytes;
  }

  /**
   * `true` when reading must pause: more than `limitBytes` of plain messages
   * wait (with `"pause"`), or of calls. Asking marks the queue paused, so
   * the next take below half the limit resumes.
   */
  get full(): boolean {
    const calls = this.#calls?.full === true;
    if (!this.plainFull) return calls;
    this.#paused = true;
    return true;
  }

  /** Queues a plain message, or drops it when full with `"drop"`. */
  override push(item: T, weight = 0): void {
    if (this.#drop && this.weight > this.limitBytes) {
      this.#dropped++;
      return;
    }
    super.push(item, weight);
  }

  /**
   * Calls `callback` once every message buffered now has been taken (at
   * once when none is): the heartbeat's acknowledgement of what was read.
   */
  afterTaken(callback: () => void): void {
    if (this.length === 0) {
      callback();
      return;
    }
    this.#afterTaken.push({ target: this.#taken + this.length, callback });
  }

  /**
   * Keeps only the buffered messages `keep` accepts (the call layer takes
   * the others): in a microtask, once the handlers registered in this tick
   * are in place, or before the next take if that comes first.
   */
  handOver(keep: (item: T) => boolean): void {
    this.#handOver = keep;
    queueMicrotask(() => this.#runHandOver());
  }

  override next(): Promise<IteratorResult<T>> {
    if (this.#handOver !== undefined) this.#runHandOver();
    return super.next();
  }

  #runHandOver(): void {
    const keep = this.#handOver;
    if (keep === undefined) return;
    this.#handOver = undefined;
    this.retain(keep);
  }

  /** Keeps the buffered items `keep` accepts; the others count as taken (the call layer took them). */
  override retain(keep: (item: T) => boolean): void {
    const before = this.length;
    super.retain(keep);
    this.#taken += before - this.length;
    this.#runAfterTaken();
  }

  #runAfterTaken(): void {
    const waiting = this.#afterTaken;
    for (
      let next = waiting.peek();
      next !== undefined && next.target <= this.#taken;
      next = waiting.peek()
    ) {
      waiting.shift();
      next.callback();
    }
  }

  /** The calls waiting to run went down to half: resume unless plain messages hold reading. */
  callsDrained(): void {
    if (!this.#paused) this.#events.resume();
  }
}

/** What the filter returns for a message not to deliver. */
export const SKIP: unique symbol = Symbol("skip");

/**
 * Checks one received message.
 *
 * @param message The message.
 * @param index Its position among the messages received, from 0.
 * @returns The value to deliver, or {@linkcode SKIP}.
 * @throws {Error} The error to deliver in the message's place.
 */
export type IncomingFilter = (message: unknown, index: number) => unknown;

/**
 * The filter the options ask for; `undefined` when there is nothing to
 * check, so that the receiving path pays nothing.
 */
export function incomingFilter<In>(
  options: IpcJsonStreamOptions<In>,
): IncomingFilter | undefined {
  const dropNodeInternal = options.nodeCompat === true;
  const validate = options.validate === undefined
    ? undefined
    : compileValidator(options.validate);
  if (!dropNodeInternal && validate === undefined) return undefined;
  const onInvalid = options.onInvalidMessage ?? "throw";
  return (message, index) => {
    if (dropNodeInternal && isNodeInternalMessage(message)) return SKIP;
    if (validate === undefined) return message;
    try {
      return validate(message, index);
    } catch (error) {
      if (onInvalid === "throw" || !(error instanceof IpcValidationError)) {
        throw error;
      }
      onInvalid(error);
      return SKIP;
    }
  };
}

/** Node's own IPC messages, such as `{ cmd: "NODE_HANDLE_ACK" }`. */
function isNodeInternalMessage(message: unknown): boolean {
  if (typeof message !== "object" || message === null) return false;
  const cmd = (message as { cmd?: unknown }).cmd;
  return typeof cmd === "string" && cmd.startsWith("NODE_");
}
