/**
 * Types that follow a handlers object: what each method takes and returns,
 * and the typed proxy of `remote()`. The callee exports its handlers; the
 * caller imports only their type, so nothing of the callee's code runs in
 * the caller.
 *
 * @module
 */

import type { IpcCallStream, IpcStreamOptions } from "./stream_types.ts";
import type { IpcCallContext, IpcRequestOptions } from "./types.ts";

/** Any handler, whatever its parameters: the shape `remote()` reads types from. @internal */
export type IpcAnyHandler = (params: never, context: IpcCallContext) => unknown;

/**
 * The parameters of handler `F`: its first parameter's type, `undefined`
 * when it takes none.
 *
 * @example
 * ```ts
 * import type { IpcParamsOf } from "@tether/ipc";
 *
 * const handlers = { add: ({ a, b }: { a: number; b: number }) => a + b };
 * const params: IpcParamsOf<typeof handlers.add> = { a: 1, b: 2 };
 * console.log(params.a + params.b); // 3
 * ```
 */
export type IpcParamsOf<F> = F extends (...args: infer A) => unknown
  ? A extends [] ? undefined : A[0]
  : never;

/**
 * What a call of handler `F` resolves to: its awaited result. (A result of
 * `undefined` arrives as `null`.)
 *
 * @example
 * ```ts
 * import type { IpcResultOf } from "@tether/ipc";
 *
 * const handlers = { add: async ({ a, b }: { a: number; b: number }) => a + b };
 * const sum: IpcResultOf<typeof handlers.add> = 3;
 * console.log(sum); // 3
 * ```
 */
export type IpcResultOf<F> = F extends (...args: never[]) => infer R
  ? Awaited<R>
  : never;

/**
 * The items a streaming handler `F` yields; `never` when it does not stream.
 *
 * @internal
 */
export type IpcItemOf<F> = IpcResultOf<F> extends AsyncIterable<infer T> ? T
  : never;

/**
 * The return value of a streaming handler `F`'s generator, which ends the
 * stream.
 *
 * @internal
 */
export type IpcReturnOf<F> = IpcResultOf<F> extends
  AsyncIterable<unknown, infer R> ? R
  : unknown;

/**
 * The arguments of a typed call of handler `F`: its params (optional when
 * they may be `undefined`), then options `O`.
 *
 * @internal
 */
export type IpcCallArgs<F, O> = undefined extends IpcParamsOf<F>
  ? [params?: IpcParamsOf<F>, options?: O]
  : [params: IpcParamsOf<F>, options?: O];

/**
 * Handlers of any method, taking anything: the type of an untyped caller,
 * such as an `IpcPool` created without a type argument.
 *
 * @internal
 */
export type IpcUntypedHandlers = Record<string, (params?: unknown) => unknown>;

/**
 * The methods of handlers `H` whose handler streams (returns an async
 * iterable, as an async generator does); any string for
 * {@linkcode IpcUntypedHandlers}.
 *
 * @internal
 */
export type IpcStreamMethods<H> = string extends keyof H ? string : {
  [K in keyof H & string]: IpcResultOf<H[K]> extends AsyncIterable<unknown> ? K
    : never;
}[keyof H & string];

/**
 * The methods of handlers `H` that answer with one result; any string for
 * {@linkcode IpcUntypedHandlers}.
 *
 * @internal
 */
export type IpcCallMethods<H> = string extends keyof H ? string
  : Exclude<keyof H & string, IpcStreamMethods<H>>;

/**
 * What a typed `request()` of method `M` resolves to: `R` when given
 * explicitly, else the handler's result.
 *
 * @internal
 */
export type IpcRequestResult<H, M, R> = unknown extends R
  ? IpcResultOf<H[M & keyof H]>
  : R;

/**
 * The items of a typed `stream()` of method `M`: `T` when given explicitly,
 * else what the handler yields (`unknown` for untyped handlers).
 *
 * @internal
 */
export type IpcStreamItem<H, M, T> = unknown extends T
  ? string extends keyof H ? unknown : IpcItemOf<H[M & keyof H]>
  : T;

/**
 * The typed proxy `remote()` returns for handlers `H`: one function per
 * method, taking the handler's params and call options. A method whose
 * handler streams returns an {@linkcode IpcCallStream} of its items; any
 * other returns a promise of its result.
 *
 * @typeParam H The type of the handlers object the peer serves.
 *
 * @example
 * ```ts
 * import type { IpcCallContext, IpcRemote } from "@tether/ipc";
 *
 * const handlers = {
 *   fib: ({ n }: { n: number }) => n,
 *   async *lines({ path }: { path: string }, { signal }: IpcCallContext) {
 *     signal.throwIfAborted();
 *     yield `${path}: 1`;
 *   },
 * };
 * type Api = IpcRemote<typeof handlers>;
 * const fib: Api["fib"] = (params) => Promise.resolve(params.n);
 * console.log(await fib({ n: 3 })); // 3
 * ```
 */
export type IpcRemote<H> = {
  readonly [K in keyof H & string]: IpcResultOf<H[K]> extends
    AsyncIterable<unknown>
    ? (...args: IpcCallArgs<H[K], IpcStreamOptions>) => IpcCallStream<
      IpcItemOf<H[K]>,
      IpcReturnOf<H[K]>
    >
    : (
      ...args: IpcCallArgs<H[K], IpcRequestOptions>
    ) => Promise<IpcResultOf<H[K]>>;
};
