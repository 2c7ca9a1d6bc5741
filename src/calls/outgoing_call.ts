/**
 * {@linkcode OutgoingCall}: a call this end made, waiting for its answer.
 *
 * @module
 */

/** A call this end made, waiting for its answer. */
export class OutgoingCall {
  readonly method: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly start: number;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;

  constructor(
    method: string,
    resolve: (value: unknown) => void,
    reject: (reason: unknown) => void,
    start: number,
  ) {
    this.method = method;
    this.resolve = resolve;
    this.reject = reject;
    this.start = start;
  }

  /** Stops the timer and the abort listener. */
  settle(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onAbort !== undefined) {
      this.signal!.removeEventListener("abort", this.onAbort);
    }
  }
}
