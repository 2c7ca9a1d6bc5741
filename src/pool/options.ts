/**
 * The options of an {@linkcode IpcPool}, their defaults, and their checks.
 *
 * @module
 */

import type { IpcJsonStreamOptions } from "../channel/options.ts";
import { fileURLToPath } from "node:url";
import type { IpcRequestOptions } from "../calls/types.ts";
import type { IpcTraceEvent } from "../channel/trace.ts";
import {
  choiceOption,
  durationOption,
  integerOption,
  limitOption,
} from "../internal/check_option.ts";
import {
  type IpcPermissions,
  permissionFlags,
  workerPermissions,
} from "../process/permissions.ts";

/**
 * Default of {@linkcode IpcPoolOptions.maxQueue}.
 */
export const DEFAULT_MAX_QUEUE = 1000;

/** Default of {@linkcode IpcPoolOptions.idleTimeout}, in milliseconds. */
const DEFAULT_IDLE_TIMEOUT = 10_000;
/** Smallest {@linkcode IpcPoolOptions.maxMemoryMiB}: a Deno child's RSS at rest is ~30–45 MiB. */
export const MIN_MEMORY_MIB = 64;

/** The `onMessage` option of an {@linkcode IpcPool}. */
export type IpcPoolMessageHandler = (message: unknown, pid: number) => void;

/** The channel options a pool passes on to each child's channel. */
export const POOL_CHANNEL_OPTIONS = [
  "maxMessageBytes",
  "sendBufferBytes",
  "receiveBufferBytes",
] as const satisfies readonly (
  & keyof IpcPoolOptions
  & keyof IpcJsonStreamOptions
)[];

/**
 * Options of an {@linkcode IpcPool}.
 *
 * @example Four children that may read one directory and reach one host
 * ```ts ignore
 * import { IpcPool, type IpcPoolOptions } from "@tether/ipc";
 *
 * const options: IpcPoolOptions = {
 *   module: new URL("./worker.ts", import.meta.url),
 *   size: 4,
 *   permissions: { read: ["./images"], net: ["api.example.com:443"] },
 *   maxQueue: 200,
 *   timeout: 30_000,
 * };
 * await using pool = new IpcPool(options);
 * ```
 */
export interface IpcPoolOptions extends
  Pick<
    IpcJsonStreamOptions,
    "maxMessageBytes" | "sendBufferBytes" | "receiveBufferBytes"
  > {
  /**
   * The module each child runs with `deno run`: a path (relative to `cwd`)
   * or a URL. It registers handlers, e.g. with `serveParentCalls()`.
   */
  module: string | URL;
  /**
   * What runs `module`: child processes (`deno run`), or Web Workers in this
   * process (`spawnWorkerWithIpc()`: cheaper to start, structured clones,
   * no process boundary; see docs/worker.md). Options only processes have
   * (`args`, `denoArgs`, `cwd`, `env`, `stdout`, `stderr`, `maxMemoryMiB`)
   * are refused for workers. A worker's `permissions` need
   * `--unstable-worker-options`; without `permissions` a worker inherits
   * every permission of this process.
   *
   * @default {"process"}
   */
  kind?: "process" | "worker";
  /**
   * With `kind: "worker"` and `permissions`: declares that this process runs
   * with `--unstable-worker-options`, as for `spawnWorkerWithIpc()`.
   *
   * @default {false}
   */
  unstableWorkerOptions?: boolean;
  /**
   * Number of children, fixed: the same as `minSize` and `maxSize` both
   * `size`. Give either `size` or `minSize`/`maxSize`.
   *
   * @default {navigator.hardwareConcurrency}
   */
  size?: number;
  /**
   * Fewest children kept running, idle or not; 0 lets an idle pool run none.
   *
   * @default {`size`, or 1 when only `maxSize` is given}
   */
  minSize?: number;
  /**
   * Most children: a new one starts when a call would otherwise wait in the
   * queue and fewer than `maxSize` run.
   *
   * @default {`size`, or `max(minSize, navigator.hardwareConcurrency)`}
   */
  maxSize?: number;
  /**
   * Milliseconds a child above `minSize` may stay idle before it exits.
   * 0 stops it as soon as it is idle.
   *
   * @default {10000}
   */
  idleTimeout?: number;
  /**
   * Retire a child after it was sent this many calls; its replacement is
   * started first, so the pool's capacity never dips. No limit by default.
   */
  maxCallsPerChild?: number;
  /**
   * Memory of one child, in MiB: its V8 heap is limited to this
   * (`--max-old-space-size`), a call that exhausts it rejects with
   * {@linkcode IpcChildExitedError} saying so, and a child whose resident
   * memory (RSS) passes it between calls is retired and replaced. At least
   * 64 (a Deno child needs ~30–45 MiB at rest). No limit by default.
   */
  maxMemoryMiB?: number;
  /**
   * When a call's `timeout` passes while it runs, kill its child (a runaway
   * loop or a handler that ignores its `signal`) and start a replacement.
   * Without it the child keeps running the handler, which keeps counting
   * on that child until it ends; a child whose handler has not ended 2 s
   * after its call timed out is retired and replaced (see docs/pool.md).
   * Each call may override it.
   *
   * @default {false}
   */
  killOnTimeout?: boolean;
  /**
   * What each child may do, turned into explicit `--allow-*` flags. None by
   * default: the channel needs no permission.
   */
  permissions?: IpcPermissions;
  /**
   * Most calls that may wait for a child; past it `request()` rejects at
   * once with {@linkcode IpcQueueFullError}. `Infinity` lets the queue grow.
   *
   * @default {1000}
   */
  maxQueue?: number;
  /**
   * Calls one child runs at once. 1 suits CPU-bound work; raise it for
   * handlers that mostly wait (I/O).
   *
   * @default {1}
   */
  concurrency?: number;
  /**
   * Calls sent ahead to a child already running `concurrency` calls: each
   * waits in the child and starts the moment a call there ends, so the
   * child does not idle for a round trip between calls (as Celery's
   * prefetch). The child still runs at most `concurrency` calls at once
   * (`serveParentCalls()` enforces it); a child that does not use
   * `serveParentCalls()` gets none. 0 sends a call only to a child with
   * room.
   *
   * @default {1}
   */
  prefetch?: number;
  /** Default `timeout` of every call, in milliseconds, time in the queue included. */
  timeout?: number;
  /** Arguments of the module: each child's `Deno.args`. */
  args?: string[];
  /**
   * Other `deno run` options, placed before the module (e.g.
   * `["--v8-flags=--max-old-space-size=512"]`). Permission flags are
   * refused here: use `permissions`.
   */
  denoArgs?: string[];
  /** Working directory of the children. @default {the parent's} */
  cwd?: string | URL;
  /** Environment variables added to the children's (they need `env` permission to read them). */
  env?: Record<string, string>;
  /** The children's standard output: the parent's, or none. @default {"inherit"} */
  stdout?: "inherit" | "null";
  /** The children's standard error: the parent's, or none. @default {"inherit"} */
  stderr?: "inherit" | "null";
  /**
   * Called with each plain message a child sends (anything but the answers
   * to calls, e.g. progress sent with `send()` next to its handlers) and
   * the child's pid, as it arrives. It is not awaited; an error it throws is
   * reported with `reportError()`. Without it the pool reads and drops such
   * messages, counting them in `stats().messagesDropped`, so that they never
   * hold answers up behind them.
   *
   * @example Progress reports from the children
   * ```ts ignore
   * import { IpcPool } from "@tether/ipc";
   *
   * await using pool = new IpcPool({
   *   module: new URL("./worker.ts", import.meta.url),
   *   onMessage: (message, pid) => console.log(`child ${pid}:`, message),
   * });
   * ```
   */
  onMessage?: (message: unknown, pid: number) => void;
  /** Called with every message to and from a child, and the child's pid. */
  trace?: (event: IpcTraceEvent, pid: number) => void;
}

/**
 * Options of one call of {@linkcode IpcPool.request}.
 *
 * @example Kill the child if the call runs away
 * ```ts ignore
 * import { IpcPool } from "@tether/ipc";
 *
 * await using pool = new IpcPool({ module: "./worker.ts", size: 2 });
 * await pool.request("render", { page: 1 }, { timeout: 5000, killOnTimeout: true });
 * ```
 */
export interface IpcPoolRequestOptions extends IpcRequestOptions {
  /**
   * When the call's `timeout` passes while it runs, kill its child and start
   * a replacement (the other calls that child was running reject with
   * {@linkcode IpcChildExitedError}).
   *
   * @default {the pool's killOnTimeout}
   */
  killOnTimeout?: boolean;
}

/**
 * Options of {@linkcode IpcPool.close}.
 *
 * @example Drain for up to 10 s, then stop what is left
 * ```ts ignore
 * import { IpcPool } from "@tether/ipc";
 *
 * const pool = new IpcPool({ module: "./worker.ts", size: 2 });
 * await pool.close({ timeout: 10_000 });
 * ```
 */
export interface IpcPoolCloseOptions {
  /**
   * Stop at once: queued calls reject with `IpcClosedError`, running ones
   * are cancelled (and reject with it too), and the children get SIGTERM
   * (SIGKILL 1 s later).
   *
   * @default {false}
   */
  force?: boolean;
  /** Milliseconds to drain gracefully before closing with `force`. No limit by default. */
  timeout?: number;
}

/** The options of a pool, checked, with the defaults applied. */
export interface PoolSettings {
  /** The arguments of `deno` for each child: `run`, flags, the module and its arguments. */
  spawnArgs: string[];
  /** What runs the module. */
  kind: "process" | "worker";
  /** Fewest children kept running. */
  minSize: number;
  /** Most children. */
  maxSize: number;
  /** Milliseconds a child above `minSize` may stay idle. */
  idleTimeout: number;
  /** Calls sent to a child before it is retired. */
  maxCallsPerChild: number;
  /** Memory limit of a child in MiB, or `undefined`. */
  maxMemoryMiB: number | undefined;
  /** Whether a call that times out kills its child. */
  killOnTimeout: boolean;
  /** Calls one child runs at once. */
  concurrency: number;
  /** Calls sent ahead to a busy child. */
  prefetch: number;
  /** Most calls that may wait. */
  maxQueue: number;
  /** Default timeout of a call, if any. */
  timeout: number | undefined;
  /** The children's standard error. */
  stderr: "inherit" | "null";
}

/**
 * Checks the options of a pool and applies the defaults, before any child
 * starts.
 *
 * @throws {TypeError} For an option of the wrong type, or permission flags
 *   in `denoArgs`.
 * @throws {RangeError} For a value out of range.
 */
export function checkPoolOptions(options: IpcPoolOptions): PoolSettings {
  const owner = "IpcPool";
  const kind = choiceOption(owner, "kind", options.kind, [
    "process",
    "worker",
  ], "process");
  if (kind === "worker") checkWorkerOptions(options);
  const { minSize, maxSize } = checkSizes(options);
  const idleTimeout = integerOption(
    owner,
    "idleTimeout",
    options.idleTimeout,
    DEFAULT_IDLE_TIMEOUT,
    0,
  );
  const maxCallsPerChild = limitOption(
    owner,
    "maxCallsPerChild",
    options.maxCallsPerChild,
    Infinity,
  );
  const maxMemoryMiB = options.maxMemoryMiB === undefined
    ? undefined
    : integerOption(
      owner,
      "maxMemoryMiB",
      options.maxMemoryMiB,
      0,
      MIN_MEMORY_MIB,
    );
  const killOnTimeout = options.killOnTimeout ?? false;
  if (typeof killOnTimeout !== "boolean") {
    throw new TypeError(
      `IpcPool option killOnTimeout must be a boolean, got ${typeof killOnTimeout}.`,
    );
  }
  const concurrency = integerOption(
    owner,
    "concurrency",
    options.concurrency,
    1,
  );
  const prefetch = integerOption(owner, "prefetch", options.prefetch, 1, 0);
  const maxQueue = limitOption(
    owner,
    "maxQueue",
    options.maxQueue,
    DEFAULT_MAX_QUEUE,
    0,
  );
  const timeout = durationOption(owner, "timeout", options.timeout);
  // Nobody would read a piped stream: a child writing to it would block.
  choiceOption(owner, "stdout", options.stdout, ["inherit", "null"], "inherit");
  const stderr = choiceOption(
    owner,
    "stderr",
    options.stderr,
    ["inherit", "null"],
    "inherit",
  );
  for (const arg of options.denoArgs ?? []) {
    if (/^(-[APRWINES]|--allow-|--permission-set)/.test(arg)) {
      throw new TypeError(
        `IpcPool option denoArgs holds ${
          JSON.stringify(arg)
        }: grant permissions with the permissions option, which grants only what it names.`,
      );
    }
  }
  const spawnArgs = [
    "run",
    "--no-prompt",
    ...permissionFlags(options.permissions),
    ...(maxMemoryMiB === undefined
      ? []
      : [`--v8-flags=--max-old-space-size=${maxMemoryMiB}`]),
    ...(options.denoArgs ?? []),
    modulePath(options.module),
    ...(options.args ?? []),
  ];
  return {
    spawnArgs,
    kind,
    minSize,
    maxSize,
    idleTimeout,
    maxCallsPerChild,
    maxMemoryMiB,
    killOnTimeout,
    concurrency,
    prefetch,
    maxQueue,
    timeout,
    stderr,
  };
}

/** `size`, or `minSize` and `maxSize`, with their defaults; see {@linkcode IpcPoolOptions}. */
function checkSizes(
  options: Pick<IpcPoolOptions, "size" | "minSize" | "maxSize">,
): { minSize: number; maxSize: number } {
  const owner = "IpcPool";
  if (
    options.size !== undefined &&
    (options.minSize !== undefined || options.maxSize !== undefined)
  ) {
    throw new TypeError(
      "IpcPool options size and minSize/maxSize exclude each other: size is a fixed pool (minSize = maxSize = size). Give one or the other.",
    );
  }
  const cores = navigator.hardwareConcurrency;
  if (options.minSize === undefined && options.maxSize === undefined) {
    const size = integerOption(owner, "size", options.size, cores);
    return { minSize: size, maxSize: size };
  }
  const minSize = integerOption(owner, "minSize", options.minSize, 1, 0);
  const maxSize = integerOption(
    owner,
    "maxSize",
    options.maxSize,
    Math.max(minSize, cores, 1),
  );
  if (minSize > maxSize) {
    throw new RangeError(
      `IpcPool option minSize (${minSize}) is above maxSize (${maxSize}): minSize must be at most maxSize.`,
    );
  }
  return { minSize, maxSize };
}

function modulePath(module: string | URL): string {
  if (module instanceof URL) {
    return module.protocol === "file:" ? fileURLToPath(module) : module.href;
  }
  if (typeof module !== "string" || module === "") {
    throw new TypeError(
      "IpcPool option module must be the path or URL of the module the children run.",
    );
  }
  return module;
}

/** Refuses what only child processes have; checks a worker's permissions early. */
function checkWorkerOptions(options: IpcPoolOptions): void {
  const processOnly = [
    "args",
    "denoArgs",
    "cwd",
    "env",
    "stdout",
    "stderr",
    "maxMemoryMiB",
  ] as const;
  for (const name of processOnly) {
    if (options[name] !== undefined) {
      throw new TypeError(
        `IpcPool option ${name} does not apply to kind: "worker" (a worker runs in this process): leave it out, or use kind: "process".`,
      );
    }
  }
  if (options.permissions !== undefined) {
    workerPermissions(options.permissions, options.unstableWorkerOptions);
  }
}
