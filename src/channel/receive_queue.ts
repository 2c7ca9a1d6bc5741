/**
 * {@linkcode ReceiveQueue}: received messages waiting for the iterator, and
 * the backpressure that bounds them.
 *
 * @module
 */

import { AsyncQueue } from "../internal/async_queue.ts";

/** What a {@linkcode ReceiveQueue} tells its channel. */
export interface ReceiveQueueEvents {
  /** The consumer caught up: reading from the peer may start again. */
  resume(): void;
  /** A reader started or stopped waiting (the process is kept alive while one waits). */
  waitingChanged(): void;
}

/**
 * Parsed messages wait here until the iterator takes them. Past
 * `limitBytes` the queue is {@linkcode ReceiveQueue.full}, and the channel
 * stops reading from the peer (whose `send()` then waits in turn) until the
 * consumer has taken the queue down to half the limit.
 *
 * @typeParam T The type of the messages.
 */
export class ReceiveQueue<T> {
  #queue: AsyncQueue<T>;
  #limitBytes: number;
  #paused = false;

  /**
   * @param limitBytes `receiveBufferBytes`.
   * @param events What to tell the channel.
   */
  constructor(limitBytes: number, events: ReceiveQueueEvents) {
    this.#limitBytes = limitBytes;
    this.#queue = new AsyncQueue<T>({
      taken: (bytes) => {
        if (this.#paused && bytes <= this.#limitBytes / 2) {
          this.#paused = false;
          events.resume();
        }
      },
      waitingChanged: () => events.waitingChanged(),
    });
  }

  /**
   * `true` when more than `limitBytes` wait: reading must pause. Asking
   * marks the queue paused, so the next take below half the limit resumes.
   */
  get full(): boolean {
    if (this.#queue.weight <= this.#limitBytes) return false;
    this.#paused = true;
    return true;
  }

  /** `true` while the iterator waits for a message. */
  get waiting(): boolean {
    return this.#queue.waiting;
  }

  /** `true` once `end()` was called: nothing more is received. */
  get ended(): boolean {
    return this.#queue.ended;
  }

  /** Bytes of the messages waiting. */
  get bytes(): number {
    return this.#queue.weight;
  }

  /** The iterator over the messages; the same one every time. */
  iterator(): AsyncIterableIterator<T> {
    return this.#queue.iterator();
  }

  /** Adds a message of `size` bytes. */
  push(message: T, size: number): void {
    this.#queue.push(message, size);
  }

  /** Adds an error the iterator throws in a message's place. */
  pushError(error: unknown): void {
    this.#queue.pushError(error);
  }

  /** The next message. */
  next(): Promise<IteratorResult<T>> {
    return this.#queue.next();
  }

  /** No more messages come: the iterator ends after the queued ones, or throws `error`. */
  end(error?: unknown): void {
    this.#queue.end(error);
  }

  /** Drops the queued messages for which `keep` returns `false`. */
  retain(keep: (message: T) => boolean): void {
    this.#queue.retain(keep);
  }
}
