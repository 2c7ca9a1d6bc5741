/**
 * {@linkcode remote}: the typed proxy over something that makes calls.
 *
 * @module
 */

import type { IpcCallStream, IpcStreamOptions } from "./stream_types.ts";
import type { IpcRemote } from "./typed.ts";
import type { IpcRequestOptions } from "./types.ts";

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
