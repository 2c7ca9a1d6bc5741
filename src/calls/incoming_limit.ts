/**
 * {@linkcode IncomingLimit}: how many calls from the peer run at once, and
 * the bounded wait of those past it: the one concurrency gate, for a
 * channel's `maxConcurrentCalls` (a pool child's `concurrency`) and a NATS
 * member's `concurrency`.
 *
 * @module
 */

import { ArrayQueue } from "../internal/array_queue.ts";
import type { RequestMessage } from "./jsonrpc.ts";

/** A request from the peer, with its `$/stream` announcement if any. */
export interface Arrived {
  /** The request. */
  message: RequestMessage;
  /** What `StreamLayer.takeAnnouncement()` took for it. */
  announced: unknown;
}

/** The bounds of an {@linkcode IncomingLimit}, and whom it tells that its waiting calls drained. */
export interface LimitBounds {
  /** Calls that may run at once (`maxConcurrentCalls`, a NATS member's `concurrency`). */
  readonly maxConcurrentCalls: number;
  /** Bytes of calls that may wait before reading pauses (`receiveBufferBytes`; `Infinity` for no bound). */
  readonly limitBytes: number;
  /** The waiting calls went down to half: reading may resume. */
  callsDrained(): void;
}

/** What the call layer needs from the channel's receiving side. */
export interface CallReceiving extends LimitBounds {
  /** `true` while reading is paused behind unread plain messages. */
  readonly plainFull: boolean;
}

/**
 * Runs at most `maxConcurrentCalls` calls at once; the others wait, in
 * arrival order, each weighing its size. Past `limitBytes` of them the limit
 * is {@linkcode IncomingLimit.full}, and the channel stops reading until
 * they are down to half. A call holds its place until
 * {@linkcode IncomingLimit.release}: its answer was handed to the channel.
 *
 * @typeParam T What a call is (the request).
 *
 * @example
 * ```ts
 * import { IncomingLimit } from "./incoming_limit.ts";
 *
 * const receiving = {
 *   maxConcurrentCalls: 1,
 *   limitBytes: 100,
 *   plainFull: false,
 *   callsDrained: () => console.log("resume reading"),
 * };
 * const limit = new IncomingLimit<string>(receiving, (call) => console.log("run", call));
 * limit.admit("a", 10); // run a
 * limit.admit("b", 200); // waits
 * console.log(limit.full); // true
 * limit.release(); // run b, resume reading
 * ```
 */
export class IncomingLimit<T> {
  #receiving: LimitBounds;
  #run: (call: T) => void;
  #running = 0;
  #waiting = new ArrayQueue<T>();
  #paused = false;
  /** The limit set by {@linkcode IncomingLimit.setMax}, under `maxConcurrentCalls`. */
  #max: number | undefined;
  /** Ids of calls the peer cancelled while they waited (at most as many as wait). */
  #cancelled = new Set<unknown>();

  /**
   * @param receiving The channel's receiving side, which asks {@linkcode IncomingLimit.full}.
   * @param run Starts a call.
   */
  constructor(receiving: LimitBounds, run: (call: T) => void) {
    this.#receiving = receiving;
    this.#run = run;
  }

  /** Calls running. */
  get running(): number {
    return this.#running;
  }

  /** Calls waiting for a place. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Calls that may run at once. */
  get max(): number {
    return this.#max ?? this.#receiving.maxConcurrentCalls;
  }

  /**
   * Runs at most `max` calls at once from now on (a pool's `concurrency`),
   * and never more than `maxConcurrentCalls`; waiting calls start if that
   * leaves room.
   */
  setMax(max: number): void {
    this.#max = Math.min(max, this.#receiving.maxConcurrentCalls);
    this.#runWaiting();
  }

  /**
   * `true` when more than `limitBytes` of calls wait: reading must pause.
   * Asking marks the limit paused, so draining to half resumes reading.
   */
  get full(): boolean {
    if (this.#waiting.weight <= this.#receiving.limitBytes) return false;
    this.#paused = true;
    return true;
  }

  /** A call arrived, weighing `size` bytes: it runs now if there is room, else waits. */
  admit(call: T, size: number): void {
    if (this.#waiting.length === 0 && this.#running < this.max) {
      this.#running++;
      this.#run(call);
    } else {
      this.#waiting.push(call, size);
    }
  }

  /**
   * The peer cancelled call `id`, which is not running: if it waits, it
   * will never run (see {@linkcode IncomingLimit.wasCancelled}).
   */
  cancelWaiting(id: unknown): void {
    if (this.#waiting.length > this.#cancelled.size) this.#cancelled.add(id);
  }

  /** `true`, once, when call `id` was cancelled while it waited. */
  wasCancelled(id: unknown): boolean {
    return this.#cancelled.size > 0 && this.#cancelled.delete(id);
  }

  /** A call is over (its answer was handed to the channel): the next one runs. */
  release(): void {
    this.#running--;
    this.#runWaiting();
  }

  #runWaiting(): void {
    const waiting = this.#waiting;
    while (waiting.length > 0 && this.#running < this.max) {
      this.#running++;
      this.#run(waiting.shift() as T);
    }
    if (waiting.length === 0) this.#cancelled.clear();
    if (this.#paused && waiting.weight <= this.#receiving.limitBytes / 2) {
      this.#paused = false;
      this.#receiving.callsDrained();
    }
  }

  /** The channel closed: the waiting calls will never run. */
  clear(): void {
    this.#waiting.clear();
    this.#cancelled.clear();
  }
}
