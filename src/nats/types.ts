/**
 * The two handles of calls over NATS: the caller's, and the worker's.
 *
 * @module
 */

import type {
  IpcCallArgs,
  IpcCallMethods,
  IpcResultOf,
} from "../calls/remote.ts";
import type { IpcRequestOptions } from "../calls/types.ts";
import type { IpcNatsCallerStats, IpcNatsServiceStats } from "./stats.ts";

/**
 * Calls to the workers of one NATS service, as `connectNatsCalls()` returns
 * it. The calls behave as a channel's: the same options, the same errors,
 * plus {@linkcode IpcNoRespondersError} when no worker serves a method.
 *
 * @example
 * ```ts ignore
 * import { connectNatsCalls } from "@tether/ipc/nats";
 *
 * await using calls = await connectNatsCalls({ servers: "nats://127.0.0.1:4222", service: "math" });
 * console.log(await calls.request("fib", { n: 20 }, { timeout: 5000 }));
 * ```
 */
export interface IpcNatsCaller extends AsyncDisposable {
  /** The service called. */
  readonly service: string;
  /**
   * Calls `method` on one worker of the service (NATS picks one of the
   * queue group) and waits for its answer.
   *
   * @param method The method; letters, digits, `-` and `_` only.
   * @param params Any JSON value, or `undefined` for none.
   * @param options `timeout` (default: the caller's `timeout`) and `signal`;
   *   both cancel the call in the worker, whose handler's `signal` fires.
   * @returns The handler's result.
   * @throws {IpcNoRespondersError} When no worker serves the method.
   * @throws {IpcTimeoutError} When no answer came within the timeout (also
   *   when the worker died or the server went away during the call).
   * @throws {IpcRemoteError} When the handler threw.
   * @throws {IpcMessageTooLargeError} When params are over the server's
   *   `max_payload`; nothing was sent.
   * @throws {IpcClosedError} After `close()`, or when the connection closed.
   */
  request<R = unknown>(
    method: string,
    params?: unknown,
    options?: IpcRequestOptions,
  ): Promise<R>;
  /**
   * A typed proxy over `request()`: `api.fib(params, options)` calls
   * `"fib"`. Only the type of the workers' handlers object is used.
   * Streaming handlers (async generators) are not served over NATS, so
   * their methods are left out of the type.
   *
   * @typeParam H The type of the handlers object the workers serve.
   *
   * @example
   * ```ts ignore
   * import { connectNatsCalls } from "@tether/ipc/nats";
   * import type { handlers } from "./worker.ts";
   *
   * await using calls = await connectNatsCalls({ servers: "nats://127.0.0.1:4222", service: "math" });
   * const api = calls.remote<typeof handlers>();
   * const sum: number = await api.add({ a: 1, b: 2 }, { timeout: 1000 });
   * ```
   */
  remote<H>(): IpcNatsRemote<H>;
  /** The figures of the calls made so far. */
  stats(): IpcNatsCallerStats;
  /**
   * Rejects the calls still waiting with {@linkcode IpcClosedError} and, when
   * the caller opened the connection, closes it.
   */
  close(): Promise<void>;
}

/**
 * A worker's registration as a NATS service, as `serveNatsCalls()` returns
 * it. `stop()` (or `await using`) drains it.
 *
 * @example
 * ```ts ignore
 * import { serveNatsCalls } from "@tether/ipc/nats";
 *
 * const worker = await serveNatsCalls({ ping: () => "pong" }, { service: "demo" });
 * Deno.addSignalListener("SIGTERM", () => worker.stop());
 * await worker.stopped;
 * ```
 */
export interface IpcNatsService extends AsyncDisposable {
  /** The service's name. */
  readonly service: string;
  /** This worker's id in the service (`$SRV.INFO` lists it). */
  readonly id: string;
  /** The methods served, one endpoint each. */
  readonly methods: readonly string[];
  /** Resolves when the worker has stopped, after `stop()` or when its connection closed. */
  readonly stopped: Promise<void>;
  /** The figures of the calls taken so far. */
  stats(): IpcNatsServiceStats;
  /**
   * Drains the worker: stops taking calls (the server sends new ones to the
   * other workers), finishes the calls it has, then closes the connection
   * when the worker opened it.
   */
  stop(): Promise<void>;
}

/**
 * The typed proxy of `IpcNatsCaller.remote()` for handlers `H`: one function
 * per method that answers with one result, taking the handler's params and
 * call options and returning a promise of its result.
 *
 * @typeParam H The type of the handlers object the workers serve.
 *
 * @example
 * ```ts
 * import type { IpcNatsRemote } from "@tether/ipc/nats";
 *
 * const handlers = { add: ({ a, b }: { a: number; b: number }) => a + b };
 * type Api = IpcNatsRemote<typeof handlers>;
 * const add: Api["add"] = ({ a, b }) => Promise.resolve(a + b);
 * console.log(await add({ a: 1, b: 2 })); // 3
 * ```
 */
export type IpcNatsRemote<H> = {
  readonly [K in IpcCallMethods<H>]: (
    ...args: IpcCallArgs<H[K], IpcRequestOptions>
  ) => Promise<IpcResultOf<H[K]>>;
};
