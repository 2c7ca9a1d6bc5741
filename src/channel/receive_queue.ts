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
 * Parsed messages wait here, each weighing its size in bytes, until the
 * iterator takes them. Past `limitBytes` the queue is
 * {@linkcode ReceiveQueue.full}, and the channel stops reading from the peer
 * (whose `send()` then waits in turn) until the consumer has taken the queue
 * down to half the limit.
 *
 * @typeParam T The type of the messages.
 */
export class ReceiveQueue<T> extends AsyncQueue<T> {
  #limitBytes: number;
  #paused = false;

  /**
   * @param limitBytes `receiveBufferBytes`.
   * @param events What to tell the channel.
   */
  constructor(limitBytes: number, events: ReceiveQueueEvents) {
    super({
      taken: (bytes) => {
        if (this.#paused && bytes <= this.#limitBytes / 2) {
          this.#paused = false;
          events.resume();
        }
      },
      waitingChanged: () => events.waitingChanged(),
    });
    this.#limitBytes = limitBytes;
  }

  /**
   * `true` when more than `limitBytes` wait: reading must pause. Asking
   * marks the queue paused, so the next take below half the limit resumes.
   */
  get full(): boolean {
    if (this.weight <= this.#limitBytes) return false;
    this.#paused = true;
    return true;
  }
}
