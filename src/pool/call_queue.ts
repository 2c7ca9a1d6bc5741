/**
 * {@linkcode CallQueue}: the calls of a pool waiting for a free child, each
 * leaving early when its timeout passes or its signal aborts.
 *
 * @module
 */

import { IpcTimeoutError } from "../calls/errors.ts";
import { ArrayQueue } from "../internal/array_queue.ts";
import type { PoolCall } from "./pool_call.ts";

/** Calls waiting for a child, in order of arrival. */
export class CallQueue {
  /** The calls; those that left early stay until they reach the head. */
  #calls = new ArrayQueue<PoolCall>();
  #length = 0;
  #onLeft: (call: PoolCall, reason: unknown) => void;

  /**
   * @param onLeft Told about a call that left the queue early (its timeout
   *   passed or its signal aborted), with the reason to reject it with.
   */
  constructor(onLeft: (call: PoolCall, reason: unknown) => void) {
    this.#onLeft = onLeft;
  }

  /** Calls waiting. */
  get length(): number {
    return this.#length;
  }

  /** Queues `call`, arming its timeout and abort signal. */
  push(call: PoolCall): void {
    this.#calls.push(call);
    this.#length++;
    if (call.timeout !== undefined) {
      call.timer = setTimeout(
        () => this.#leave(call, queueTimeoutError(call)),
        call.timeout,
      );
    }
    const signal = call.signal;
    if (signal !== undefined) {
      call.onAbort = () => this.#leave(call, signal.reason);
      signal.addEventListener("abort", call.onAbort, { once: true });
    }
  }

  /** Removes and returns the next call still waiting. */
  shift(): PoolCall | undefined {
    for (let call; (call = this.#calls.shift()) !== undefined;) {
      if (call.state === "queued") {
        this.#length--;
        call.stopWaiting();
        return call;
      }
    }
    return undefined;
  }

  #leave(call: PoolCall, reason: unknown): void {
    if (call.state !== "queued") return;
    this.#length--;
    this.#onLeft(call, reason);
  }
}

/** The error of a call whose timeout passed before a child was free. */
export function queueTimeoutError(call: PoolCall): IpcTimeoutError {
  return new IpcTimeoutError(
    call.method,
    call.timeout ?? 0,
    `The call "${call.method}" waited for a free child longer than its timeout of ${call.timeout} ms, ` +
      `and was never sent. Raise the timeout, add children (size), or send fewer calls at once.`,
  );
}
