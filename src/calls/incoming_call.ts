/**
 * {@linkcode IncomingCall}: a call from the peer whose handler runs; it is
 * the handler's context.
 *
 * @module
 */

import type { CallId } from "./jsonrpc.ts";
import type { IpcCallContext } from "./types.ts";

/** Where a handler's progress reports go. */
export interface ProgressSink {
  /** Sends the progress `value` of call `id`. */
  progress(id: CallId, value: unknown): Promise<void>;
}

/**
 * A call from the peer whose handler runs; it is the handler's context. Its
 * `AbortController` is made only when the handler reads `signal`.
 */
export class IncomingCall implements IpcCallContext {
  readonly method: string;
  readonly id: CallId;
  /** The peer cancelled the call (`$/cancelRequest`). */
  peerCancelled = false;
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;
  #sink: ProgressSink | undefined;

  constructor(method: string, id: CallId, sink?: ProgressSink) {
    this.method = method;
    this.id = id;
    this.#sink = sink;
  }

  #progress: ((value: unknown) => Promise<void>) | undefined;

  /** Made on first use, so it can be destructured. */
  get progress(): (value: unknown) => Promise<void> {
    return this.#progress ??= (value) =>
      this.#aborted || this.#sink === undefined
        ? Promise.resolve()
        : this.#sink.progress(this.id, value);
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Fires the signal, with the reason `reasonFor` makes from the method. */
  abort(reasonFor: (method: string) => unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reasonFor(this.method);
    this.#controller?.abort(this.#reason);
  }
}
