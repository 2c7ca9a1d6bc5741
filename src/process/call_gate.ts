/**
 * {@linkcode CallGate}: the handlers of `serveParentCalls()` run at most
 * `limit` at a time; the others wait in arrival order (a pool sends calls
 * ahead, its `prefetch`, and they wait here, not in the pool's queue).
 *
 * @module
 */

import type { IpcCallContext, IpcHandler } from "../calls/types.ts";
import { ArrayQueue } from "../internal/array_queue.ts";

/** Lets at most `limit` handlers run at once; unlimited until set. */
export class CallGate {
  /** Handlers that may run at once. */
  limit = Infinity;
  #running = 0;
  #waiting = new ArrayQueue<() => void>();

  /**
   * `handler`, made to wait for a place while `limit` handlers run. A call
   * cancelled while it waits never starts: it rejects with the signal's
   * reason.
   */
  wrap<P>(handler: IpcHandler<P>): IpcHandler<P> {
    return (params: P, context: IpcCallContext) => {
      if (this.limit === Infinity) return handler(params, context);
      return this.#run(() => handler(params, context), context.signal);
    };
  }

  async #run(call: () => unknown, signal: AbortSignal): Promise<unknown> {
    if (this.#running >= this.limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      signal.throwIfAborted();
      return await call();
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#running--;
      else next(); // The place passes to the next call.
    }
  }
}
