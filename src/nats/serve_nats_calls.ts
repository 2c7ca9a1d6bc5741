/**
 * {@linkcode serveNatsCalls}: the worker's side of calls over NATS.
 *
 * @module
 */

import { Svcm } from "@nats-io/services";
import type {
  IpcHandler,
  IpcHandlers,
  IpcRequestOptions,
} from "../calls/types.ts";
import { integerOption } from "../internal/check_option.ts";
import { IpcPool } from "../pool/ipc_pool.ts";
import { type CallRunner, NatsService } from "./nats_service.ts";
import {
  checkName,
  type IpcNatsConnectOptions,
  openConnection,
} from "./options.ts";
import type { IpcNatsService } from "./types.ts";

/** Calls one worker runs at once unless told otherwise. */
export const DEFAULT_NATS_CONCURRENCY = 64;

/**
 * Anything that makes calls, such as an `IpcPool` (or a channel to one
 * child): a worker can pass each call on to it with the `methods` option.
 *
 * @example An `IpcPool` is one
 * ```ts ignore
 * import { IpcPool } from "@tether/ipc";
 * import type { IpcNatsCallTarget } from "@tether/ipc/nats";
 *
 * const pool: IpcNatsCallTarget = new IpcPool({ module: "./worker.ts" });
 * ```
 */
export interface IpcNatsCallTarget {
  /** Calls `method` with `params`; `options.signal` cancels the call. */
  request(
    method: string,
    params?: unknown,
    options?: IpcRequestOptions,
  ): Promise<unknown>;
}

/**
 * Options of {@linkcode serveNatsCalls}: the server, the service's name and
 * version, the queue group, and how many calls run at once.
 *
 * @example
 * ```ts
 * import type { ServeNatsCallsOptions } from "@tether/ipc/nats";
 *
 * const options: ServeNatsCallsOptions = {
 *   servers: "nats://127.0.0.1:4222",
 *   service: "math",
 *   version: "1.2.0",
 *   concurrency: 8,
 * };
 * console.log(options.concurrency); // 8
 * ```
 */
export interface ServeNatsCallsOptions extends IpcNatsConnectOptions {
  /**
   * The service's name: callers name it in `connectNatsCalls()`, and the
   * method `m` is served on the subject `<service>.m`. Letters, digits, `-`
   * and `_` only.
   */
  service: string;
  /**
   * The service's version, as `$SRV.INFO` shows it (semantic versioning).
   *
   * @default {"0.0.0"}
   */
  version?: string;
  /** A description of the service, as `$SRV.INFO` shows it. */
  description?: string;
  /**
   * The NATS queue group of the endpoints: each call goes to one worker of
   * the group. Workers with different queues each get every call.
   *
   * @default {"tether"}
   */
  queue?: string;
  /**
   * Calls this worker runs at once. More wait in this worker, in the order
   * they came, until a call finishes.
   *
   * @default {64}
   */
  concurrency?: number;
  /**
   * The methods to serve when `source` is an `IpcPool` or another
   * {@linkcode IpcNatsCallTarget} (which cannot tell its methods); not
   * allowed with handlers, whose keys are the methods.
   */
  methods?: string[];
}

/**
 * Serves calls from NATS: registers a NATS service (found by `$SRV.PING`,
 * `$SRV.INFO`, `$SRV.STATS`) with one endpoint per method in a queue group,
 * so any number of workers on any machines share the calls. Callers use
 * {@linkcode connectNatsCalls} with the same `service`.
 *
 * `source` is handlers, as `serveParentCalls()` takes them, or an
 * `IpcPool`: then each call goes to the least busy of its children, and one
 * member process per machine uses every core with least-privilege children.
 *
 * Needs `--allow-net` for the server (and `--allow-read` for TLS files).
 *
 * @param source The handler of each method, or a pool whose children serve them.
 * @param options The server, the credentials, the service and its limits.
 * @returns The running worker, once the server knows it (a call made then
 *   reaches it); `stop()` drains it.
 * @throws {TypeError} When an option or a method's name is invalid.
 * @throws {Error} The NATS client's error when the server cannot be reached
 *   or refuses the credentials.
 *
 * @example A worker of the service "math"
 * ```ts ignore
 * import { serveNatsCalls } from "@tether/ipc/nats";
 *
 * function fib(n: number): number {
 *   return n < 2 ? n : fib(n - 1) + fib(n - 2);
 * }
 * await using worker = await serveNatsCalls(
 *   { fib: ({ n }: { n: number }) => fib(n) },
 *   { servers: "nats://127.0.0.1:4222", service: "math" },
 * );
 * await worker.stopped; // until stop(), or the connection closes
 * ```
 */
export async function serveNatsCalls(
  source: IpcHandlers | IpcNatsCallTarget,
  options: ServeNatsCallsOptions,
): Promise<IpcNatsService> {
  const owner = "serveNatsCalls()";
  const service = checkName(owner, "service", options?.service);
  const concurrency = integerOption(
    owner,
    "concurrency",
    options.concurrency,
    DEFAULT_NATS_CONCURRENCY,
  );
  const queue = checkName(owner, "queue", options.queue ?? "tether");
  const { methods, run } = runnerFor(owner, source, options.methods);
  const { connection, owned } = await openConnection(owner, options);
  const worker = new NatsService(
    connection,
    owned,
    service,
    methods,
    concurrency,
    run,
  );
  try {
    const nats = await new Svcm(connection).add({
      name: service,
      version: options.version ?? "0.0.0",
      description: options.description,
      queue,
    });
    worker.attach(nats);
    const group = nats.addGroup(service);
    for (const method of methods) {
      group.addEndpoint(method, {
        handler: (error, msg) => {
          if (error === null) worker.receive(method, msg);
        },
        metadata: { method },
      });
    }
    // A round trip: the server has the subscriptions, so a call made once
    // this resolves finds the worker instead of "no responders".
    await connection.flush();
  } catch (error) {
    if (owned) await connection.close();
    throw error;
  }
  return worker;
}

function runnerFor(
  owner: string,
  source: IpcHandlers | IpcNatsCallTarget,
  methods: string[] | undefined,
): { methods: string[]; run: CallRunner } {
  if (typeof source !== "object" || source === null) {
    throw new TypeError(
      `${owner} takes handlers (an object of functions by method name) or an IpcPool.`,
    );
  }
  if (source instanceof IpcPool || methods !== undefined) {
    const target = source as IpcNatsCallTarget;
    if (typeof target.request !== "function") {
      throw new TypeError(
        `${owner} option methods is for an IpcPool (or another object with request()); ` +
          `with handlers, their keys are the methods: leave methods out.`,
      );
    }
    if (!Array.isArray(methods) || methods.length === 0) {
      throw new TypeError(
        `${owner} option methods must list the methods to serve when the source is an IpcPool, ` +
          `e.g. { methods: ["fib", "sha256"] }: the pool cannot tell its children's methods.`,
      );
    }
    for (const method of methods) checkName(owner, "method", method);
    return {
      methods: [...methods],
      run: (method, params, { signal }) =>
        target.request(method, params, { signal }),
    };
  }
  const handlers = new Map<string, IpcHandler<never>>();
  for (const [method, handler] of Object.entries(source as IpcHandlers)) {
    checkName(owner, "method", method);
    if (typeof handler !== "function") {
      throw new TypeError(
        `${owner}: the handler of "${method}" must be a function, got ${typeof handler}.`,
      );
    }
    handlers.set(method, handler);
  }
  if (handlers.size === 0) {
    throw new TypeError(`${owner} needs at least one handler.`);
  }
  return {
    methods: [...handlers.keys()],
    run: (method, params, context) =>
      (handlers.get(method) as IpcHandler)(params, context),
  };
}
