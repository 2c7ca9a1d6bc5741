/**
 * The parent's side of a Web Worker channel: {@linkcode spawnWorkerWithIpc}
 * starts a module in a `Worker` and gives the same channel as a child
 * process has, carried by `postMessage()`; `workerAsChild()` gives such a
 * worker the shape of a child process, for a pool of workers. (The worker's
 * side is in `connect_parent_ipc.ts`.)
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { IpcJsonStream } from "../channel/ipc_json_stream.ts";
import {
  checkStreamOptions,
  type IpcJsonStreamOptions,
} from "../channel/options.ts";
import { settlesWithin } from "../internal/deadline.ts";
import { WorkerPortTransport } from "../transports/worker_port.ts";
import { type IpcChildExitedError, workerExitedError } from "../errors.ts";
import { type IpcPermissions, workerPermissions } from "./permissions.ts";
import type { IpcChildProcess } from "./spawn_with_ipc.ts";
import type { IpcChildStatus } from "./stop_child.ts";

/** On dispose, how long queued messages may take to go out before the worker is terminated. */
const DISPOSE_GRACE_MS = 1000;

let workersStarted = 0;

/** Options of {@linkcode spawnWorkerWithIpc}. */
export interface SpawnWorkerWithIpcOptions<In = unknown>
  extends Omit<IpcJsonStreamOptions<In>, "serialization" | "nodeCompat"> {
  /**
   * What the worker may do, through Deno's `Worker` `deno.permissions`:
   * exactly these, nothing else. Needs the parent to run with
   * `--unstable-worker-options`; without it, `spawnWorkerWithIpc()` throws
   * a `TypeError` rather than start a worker with more.
   * Left out, the worker inherits **every** permission of the parent
   * (Deno's default).
   */
  permissions?: IpcPermissions;
  /**
   * Declares that the process runs with `--unstable-worker-options` (or
   * `"unstable": ["worker-options"]` in `deno.json`). Needed with
   * `permissions` unless the parent runs with `--allow-all`, the only way
   * Deno lets it read its own command line to check.
   *
   * @default {false}
   */
  unstableWorkerOptions?: boolean;
  /** The worker's name, in its errors and Deno's messages. @default {"worker-<n>"} */
  name?: string;
}

/**
 * A worker started by {@linkcode spawnWorkerWithIpc}, with its channel.
 *
 * @typeParam In The type of the messages from the worker.
 * @typeParam Out The type of the messages to the worker.
 */
export interface IpcWorker<In = unknown, Out = unknown>
  extends AsyncDisposable {
  /** The worker's name. */
  readonly name: string;
  /** The message channel to the worker. */
  readonly ipc: IpcJsonStream<In, Out>;
  /**
   * Resolves once the worker is gone: with the {@linkcode IpcChildExitedError}
   * that ended it when it threw, exited or closed itself while the channel
   * was open, else with `undefined`. It never rejects.
   */
  readonly closed: Promise<IpcChildExitedError | undefined>;
  /**
   * Stops the worker at once. While the channel is open it closes with an
   * {@linkcode IpcChildExitedError}, so calls in flight reject.
   */
  terminate(): void;
  /**
   * Closes the channel (queued messages go out, waiting at most a second),
   * then terminates the worker; for `await using`.
   */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `module` in a Web Worker with a message channel to it: the same
 * {@linkcode IpcJsonStream} as a child process has (iteration, `send()`
 * with backpressure, calls, validation, stats, trace), carried by
 * `postMessage()`. Messages are structured clones, not JSON: typed arrays,
 * `Map`, `Set`, `Date`, `BigInt` arrive as they were sent, and
 * `send(message, { transfer })` moves `ArrayBuffer`s instead of copying
 * them. In the worker, `connectParentIpc()` and `serveParentCalls()` find
 * this channel.
 *
 * A Deno worker runs until it is terminated or calls `self.close()`, and
 * keeps this process alive meanwhile: end it with `terminate()` or
 * `await using`. A worker that throws an uncaught error, calls
 * `Deno.exit()` or closes itself while the channel is open ends the channel
 * with an {@linkcode IpcChildExitedError}.
 *
 * @typeParam In The type of the messages from the worker.
 * @typeParam Out The type of the messages to the worker.
 * @param module The worker's module: a path (relative to the working
 *   directory) or a URL.
 * @param options Its permissions, name and the channel's limits.
 * @returns The running worker.
 * @throws {TypeError} When `permissions` is given and the process
 *   does not run with `--unstable-worker-options`.
 * @throws {TypeError} For an unknown permission.
 *
 * @example Square numbers in a worker (`square.ts` runs `serveParentCalls({ square: (n: number) => n * n })`)
 * ```ts ignore
 * import { spawnWorkerWithIpc } from "@tether/ipc";
 *
 * await using worker = spawnWorkerWithIpc(new URL("./square.ts", import.meta.url));
 * console.log(await worker.ipc.request("square", 12)); // 144
 * ```
 */
export function spawnWorkerWithIpc<In = unknown, Out = unknown>(
  module: string | URL,
  options: SpawnWorkerWithIpcOptions<In> = {},
): IpcWorker<In, Out> {
  return new WorkerWithIpc<In, Out>(module, options);
}

class WorkerWithIpc<In, Out> implements IpcWorker<In, Out> {
  readonly name: string;
  readonly ipc: IpcJsonStream<In, Out>;
  readonly closed: Promise<IpcChildExitedError | undefined>;
  #worker: Worker;
  #transport: WorkerPortTransport;
  #gone = Promise.withResolvers<IpcChildExitedError | undefined>();
  #failure: IpcChildExitedError | undefined;
  #terminated = false;

  constructor(module: string | URL, options: SpawnWorkerWithIpcOptions<In>) {
    const settings = checkStreamOptions(options);
    const name = options.name ?? `worker-${++workersStarted}`;
    const deno = options.permissions === undefined ? undefined : {
      permissions: workerPermissions(
        options.permissions,
        options.unstableWorkerOptions,
      ),
    };
    this.name = name;
    this.#worker = new Worker(moduleUrl(module), {
      type: "module",
      name,
      ...(deno === undefined ? {} : { deno }),
    } as WorkerOptions);
    this.#transport = new WorkerPortTransport(this.#worker, {
      side: "parent",
      window: settings.receiveBufferBytes,
      incomingLimit: settings.maxMessageBytes,
      onExit: (reason, open, code) => {
        if (open) this.#fail(reason, code);
        else this.#end();
      },
    });
    this.ipc = new IpcJsonStream<In, Out>(this.#transport, options);
    this.#worker.addEventListener("error", (event) => {
      event.preventDefault();
      this.#fail(`threw an uncaught error: ${event.message}`);
    });
    this.#worker.addEventListener("messageerror", () => {
      this.#fail("sent a message that could not be deserialized");
    });
    this.closed = this.#gone.promise;
  }

  terminate(): void {
    if (this.#terminated) return;
    this.#transport.fail(
      workerExitedError(this.name, "was terminated by terminate()"),
    );
    this.#end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await settlesWithin(this.ipc.close(), DISPOSE_GRACE_MS);
    this.#end();
  }

  /** The worker failed: the channel closes with the error, and the worker is ended. */
  #fail(how: string, code?: number): void {
    const error = workerExitedError(this.name, how, { code });
    if (!this.#transport.finished) {
      this.#failure ??= error;
      this.#transport.fail(error);
    }
    this.#end();
  }

  /** Terminates the worker, once the channel has closed. */
  #end(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#worker.terminate();
    this.#transport.destroy();
    this.ipc.closed.then(() => this.#gone.resolve(this.#failure));
  }
}

/** A module specifier as a URL: paths are resolved against the working directory. */
function moduleUrl(module: string | URL): URL {
  if (module instanceof URL) return module;
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !isAbsolute(module)) {
    return new URL(module);
  }
  return pathToFileURL(resolve(module));
}

/**
 * A worker as an {@linkcode IpcChildProcess}: `pid` is this process's (the
 * worker runs in it); `status` resolves when the worker is gone, with the
 * code it gave `Deno.exit()` with its channel open, 1 when it failed
 * otherwise (threw, closed itself with its channel open), and 0 after a
 * clean end; `kill()` terminates it, whatever the signal (`false` once it
 * ended). Once its channel
 * is closed, the worker is terminated: a pool's worker has nothing left to
 * do then. It has no standard streams of its own.
 *
 * @param worker The worker, just started.
 * @returns The worker as a child.
 */
export function workerAsChild<In, Out>(
  worker: IpcWorker<In, Out>,
): IpcChildProcess<In, Out> {
  let gone = false;
  const status: Promise<IpcChildStatus> = worker.closed.then((failure) => {
    gone = true;
    const code = failure === undefined ? 0 : failure.code ?? 1;
    return { success: code === 0, code, signal: null };
  });
  worker.ipc.closed.then(() => worker.terminate());
  const noStream = (name: string) =>
    new TypeError(
      `A worker has no ${name} of its own: it shares this process's.`,
    );
  return {
    pid: Deno.pid,
    ipc: worker.ipc,
    status,
    get stdin(): WritableStream<Uint8Array> {
      throw noStream("stdin");
    },
    get stdout(): ReadableStream<Uint8Array> {
      throw noStream("stdout");
    },
    get stderr(): ReadableStream<Uint8Array> {
      throw noStream("stderr");
    },
    kill(): boolean {
      if (gone) return false;
      worker.terminate();
      return true;
    },
    ref(): void {},
    unref(): void {},
    [Symbol.asyncDispose]: () => worker[Symbol.asyncDispose](),
  };
}
