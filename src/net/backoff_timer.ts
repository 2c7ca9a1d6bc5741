/**
 * {@linkcode BackoffTimer}: the wait between two attempts to reconnect,
 * which keeps the process alive only while something needs the connection.
 *
 * @module
 */

/** One wait at a time; `cancel()` ends it early. */
export class BackoffTimer {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #keepAlive: () => boolean;

  /** @param keepAlive Whether the wait should keep the process alive now. */
  constructor(keepAlive: () => boolean) {
    this.#keepAlive = keepAlive;
  }

  /** Resolves after `ms` milliseconds, or at `cancel()`. */
  sleep(ms: number): Promise<void> {
    this.cancel();
    return new Promise((resolve) => {
      this.#wake = () => {
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#wake = undefined;
        resolve();
      };
      this.#timer = setTimeout(this.#wake, ms);
      this.update();
    });
  }

  /** Ends the wait now. */
  cancel(): void {
    this.#wake?.();
  }

  /** `keepAlive()` may have changed: ref or unref the wait. */
  update(): void {
    if (this.#timer === undefined) return;
    // With node: modules loaded, setTimeout gives a Node Timeout object.
    const timer = this.#timer as unknown as number | {
      ref(): void;
      unref(): void;
    };
    const keep = this.#keepAlive();
    if (typeof timer === "number") {
      if (keep) Deno.refTimer(timer);
      else Deno.unrefTimer(timer);
    } else if (keep) timer.ref();
    else timer.unref();
  }
}
