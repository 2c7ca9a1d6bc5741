/**
 * {@linkcode PoolStream}: a streaming call made through an `IpcPool`. It
 * waits in the pool's queue like any call, then runs as a stream on the one
 * child it was sent to, counting as one call in flight there until the
 * child's generator ends; its items come from that child's stream.
 *
 * The pool sends a call with {@linkcode poolRun}: a stream (or a call with
 * `onProgress`) carries how to run it on the child it is sent to.
 *
 * @module
 */

import { IpcCancelledError } from "../errors.ts";
import { streamAnswer } from "../calls/streams.ts";
import type { IpcCallStream, IpcStreamOptions } from "../calls/streams.ts";
import type { IpcRequestOptions } from "../calls/types.ts";
import type { IpcJsonStream } from "../channel/ipc_json_stream.ts";

/** Runs a call on the child's channel, with the options the pool made for it. */
export type PoolRun = (
  ipc: IpcJsonStream,
  options: IpcRequestOptions | undefined,
) => Promise<unknown>;

const RUN = Symbol("run");

/** Options of a pool call that runs in its own way on the child. */
interface RunOptions extends IpcRequestOptions {
  [RUN]?: PoolRun;
}

const noop = () => {};

/**
 * How the pool runs a call on the child it sends it to: a stream's own way,
 * or a request that passes `onProgress` on; `undefined` for a plain request.
 */
export function poolRun(
  method: string,
  params: unknown,
  options: IpcRequestOptions | undefined,
): PoolRun | undefined {
  const run = (options as RunOptions | undefined)?.[RUN];
  if (run !== undefined) return run;
  const onProgress = options?.onProgress;
  if (onProgress === undefined) return undefined;
  return (ipc, callOptions) =>
    ipc.request(method, params, { ...callOptions, onProgress });
}

/** A streaming call through a pool; see the module documentation. */
export class PoolStream<T, R> implements IpcCallStream<T, R> {
  #method: string;
  #inner: IpcCallStream<T, R> | undefined;
  #sent = Promise.withResolvers<IpcCallStream<T, R>>();
  #answer: Promise<unknown>;
  #cancel = new AbortController();
  #returned = false;

  /**
   * Queues the call in the pool.
   *
   * @param request The pool's `request()`.
   * @param method The method called.
   * @param params Its parameters.
   * @param options The stream's options.
   */
  constructor(
    request: (
      method: string,
      params: unknown,
      options: IpcRequestOptions,
    ) => Promise<unknown>,
    method: string,
    params: unknown,
    options: IpcStreamOptions | undefined,
  ) {
    this.#method = method;
    const signal = options?.signal === undefined
      ? this.#cancel.signal
      : AbortSignal.any([options.signal, this.#cancel.signal]);
    const run: PoolRun = (ipc, callOptions) => {
      const inner = ipc.stream<T, R>(method, params, {
        ...callOptions,
        highWaterMark: options?.highWaterMark,
        highWaterMarkBytes: options?.highWaterMarkBytes,
        onProgress: options?.onProgress,
      });
      this.#inner = inner;
      this.#sent.resolve(inner);
      return streamAnswer(inner as IpcCallStream<unknown, unknown>);
    };
    const callOptions: RunOptions = {
      signal,
      timeout: options?.timeout,
      [RUN]: run,
    };
    this.#answer = request(method, params, callOptions);
    this.#answer.then(undefined, noop);
  }

  async next(): Promise<IteratorResult<T, R | undefined>> {
    if (this.#returned) return { done: true, value: undefined };
    const inner = this.#inner ?? await Promise.race([
      this.#sent.promise,
      // Rejects when the pool fails the call before sending it.
      this.#answer.then(() => this.#sent.promise),
    ]);
    try {
      return await inner.next();
    } catch (error) {
      // The pool's error tells more (which child exited, and how).
      throw await this.#answer.then(() => error, (poolError) => poolError);
    }
  }

  async return(): Promise<IteratorReturnResult<R | undefined>> {
    if (!this.#returned) {
      this.#returned = true;
      if (this.#inner !== undefined) await this.#inner.return();
      else this.#cancel.abort(new IpcCancelledError(this.#method));
    }
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): IpcCallStream<T, R> {
    return this;
  }
}
