/**
 * {@linkcode OutgoingCall}: a call this end made, waiting for its answer.
 *
 * @module
 */

/**
 * A request option for the library's layers (not in mod.ts): called once
 * the peer is done with the call, so it no longer holds a place there: its
 * answer arrived (also an answer to a call this end gave up on, which comes
 * when the peer's handler really ends), the request was never sent, or the
 * channel closed. An `IpcPool` keeps counting a call on its child until then.
 */
export const PEER_DONE: unique symbol = Symbol("peerDone");

/** Options that may carry {@linkcode PEER_DONE}. */
export interface PeerDoneOption {
  /** See {@linkcode PEER_DONE}. */
  [PEER_DONE]?: () => void;
}

/** A call this end made, waiting for its answer. */
export class OutgoingCall {
  readonly method: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly start: number;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  /** Its {@linkcode PEER_DONE} option. */
  peerDone: (() => void) | undefined = undefined;

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
