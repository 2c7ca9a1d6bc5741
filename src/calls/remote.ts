/**
 * {@linkcode remote}: the typed proxy over something that makes calls, and
 * the types that follow a handlers object (`IpcRemote`, `IpcCallMethods`, …):
 * the callee exports its handlers, the caller imports their type.
 *
 * @module
 */

import type { IpcCallStream, IpcStreamOptions } from "./streams.ts";
import type { IpcCallContext, IpcRequestOptions } from "./types.ts";

/** What makes the calls of a proxy: a channel, or a pool. */
export interface IpcCaller {
  /** Makes one call. */
  request(
    method: string,
    params?: unknown,
    options?: IpcRequestOptions,
  ): Promise<unknown>;
  /** Makes one streaming call. */
  stream(
    method: string,
    params?: unknown,
    options?: IpcStreamOptions,
  ): IpcCallStream<unknown, unknown>;
}

/**
 * A typed proxy over `caller`: `api.fib(params, options)` calls `"fib"` in
 * the peer. Only the type of the handlers object is used. What a method
 * returns is both a promise and an async iterable, and the call is made
 * when it is first used as one of them: awaiting it (or `then`, `catch`,
 * `finally`) makes `caller.request(…)`; iterating it (`for await`) makes
 * `caller.stream(…)`. The type `H` says which one each method allows, so a
 * call that is neither awaited nor iterated is never sent.
 *
 * @typeParam H The type of the handlers object the peer serves.
 * @param caller A channel or a pool.
 * @returns The proxy. It behaves as an ordinary object for the names of
 *   conversions, which are therefore not methods of the peer: `then` and
 *   `toJSON` are `undefined` (so `await api` gives the proxy, not a call),
 *   `toString` and `valueOf` are `Object`'s (`String(api)` is `"[object
 *   IpcRemote]"`), and symbols are `undefined` but `Symbol.toStringTag` and
 *   the inspect hooks of Deno and Node (`console.log(api)` shows
 *   `IpcRemote { caller: IpcJsonStream }`).
 *
 * @example
 * ```ts
 * import { IpcJsonStream, remote } from "@tether/ipc";
 *
 * const handlers = {
 *   add: ({ a, b }: { a: number; b: number }) => a + b,
 *   async *count(n: number) { for (let i = 0; i < n; i++) yield i; },
 * };
 * const [there, back] = [new TransformStream(), new TransformStream()];
 * await using caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * await using callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("add", handlers.add);
 * callee.handle("count", handlers.count);
 * const api = remote<typeof handlers>(caller);
 * console.log(await api.add({ a: 2, b: 40 })); // 42
 * for await (const i of api.count(3)) console.log(i); // 0, 1, 2
 * ```
 */
export function remote<H>(caller: IpcCaller): IpcRemote<H> {
  const methods = new Map<string, unknown>();
  const target = objectPart(caller);
  return new Proxy(target, {
    get(target, name) {
      if (typeof name !== "string" || OBJECT_NAMES.has(name)) {
        return Reflect.get(target, name);
      }
      let method = methods.get(name);
      if (method === undefined) {
        method = (params?: unknown, options?: IpcStreamOptions) =>
          new RemoteCall(caller, name, params, options);
        methods.set(name, method);
      }
      return method;
    },
  }) as IpcRemote<H>;
}

/**
 * Names the proxy answers as an ordinary object does, from its target:
 * `await`, `String()`, template literals and `JSON.stringify` look them up.
 */
const OBJECT_NAMES = new Set(["then", "toJSON", "toString", "valueOf"]);

/**
 * The proxy's target: what an ordinary object would have for the names in
 * `OBJECT_NAMES` and for symbols (inspectors read the target of a proxy).
 */
function objectPart(caller: IpcCaller): object {
  const name = (caller as { constructor?: { name?: unknown } }).constructor
    ?.name;
  const text = `IpcRemote { caller: ${
    typeof name === "string" && name !== "" ? name : "Object"
  } }`;
  const show = () => text;
  return Object.defineProperties({}, {
    [Symbol.toStringTag]: { value: "IpcRemote" },
    [Symbol.for("Deno.customInspect")]: { value: show },
    [Symbol.for("nodejs.util.inspect.custom")]: { value: show },
  });
}

/** One call through the proxy: a request once awaited, a stream once iterated. */
class RemoteCall implements PromiseLike<unknown>, AsyncIterable<unknown> {
  #caller: IpcCaller;
  #method: string;
  #params: unknown;
  #options: IpcStreamOptions | undefined;
  #answer: Promise<unknown> | undefined;

  constructor(
    caller: IpcCaller,
    method: string,
    params: unknown,
    options: IpcStreamOptions | undefined,
  ) {
    this.#caller = caller;
    this.#method = method;
    this.#params = params;
    this.#options = options;
  }

  get [Symbol.toStringTag](): string {
    return "RemoteCall";
  }

  #request(): Promise<unknown> {
    return this.#answer ??= this.#caller.request(
      this.#method,
      this.#params,
      this.#options,
    );
  }

  then<A = unknown, B = never>(
    onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#request().then(onFulfilled, onRejected);
  }

  catch<B = never>(
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<unknown> {
    return this.#request().catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<unknown> {
    return this.#request().finally(onFinally);
  }

  [Symbol.asyncIterator](): IpcCallStream<unknown, unknown> {
    return this.#caller.stream(this.#method, this.#params, this.#options);
  }
}

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
