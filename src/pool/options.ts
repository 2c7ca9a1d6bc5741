/**
 * The options of an {@linkcode IpcPool}, their defaults, and their checks.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
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
} from "../process/permission_flags.ts";

/**
 * Default of {@linkcode IpcPoolOptions.maxQueue}.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_QUEUE } from "@tether/ipc";
 *
 * console.log(DEFAULT_MAX_QUEUE); // 1000
 * ```
 */
export const DEFAULT_MAX_QUEUE = 1000;

/**
 * The `onMessage` option of an {@linkcode IpcPool}: called with each plain
 * message a child sends, and the child's pid.
 *
 * @example Progress reports from the children
 * ```ts
 * import type { IpcPoolMessageHandler } from "@tether/ipc";
 *
 * const onMessage: IpcPoolMessageHandler = (message, pid) => console.log(`child ${pid}:`, message);
 * onMessage({ progress: 0.5 }, 4242); // child 4242: { progress: 0.5 }
 * ```
 */
export type IpcPoolMessageHandler = (message: unknown, pid: number) => void;

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
export interface IpcPoolOptions {
  /**
   * The module each child runs with `deno run`: a path (relative to `cwd`)
   * or a URL. It registers handlers, e.g. with `serveParentCalls()`.
   */
  module: string | URL;
  /** Number of children. @default {navigator.hardwareConcurrency} */
  size?: number;
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
  /** `maxMessageBytes` of each channel, as for `IpcJsonStream`. */
  maxMessageBytes?: number;
  /** `sendBufferBytes` of each channel. */
  sendBufferBytes?: number;
  /** `receiveBufferBytes` of each channel. */
  receiveBufferBytes?: number;
  /**
   * Called with each plain message a child sends (anything but the answers
   * to calls, e.g. progress sent with `send()` next to its handlers) and
   * the child's pid, as it arrives. It is not awaited; an error it throws is
   * reported with `reportError()`. Without it the pool reads and drops such
   * messages, counting them in `stats().messagesDropped`, so that they never
   * hold answers up behind them.
   */
  onMessage?: IpcPoolMessageHandler;
  /** Called with every message to and from a child, and the child's pid. */
  trace?: (event: IpcTraceEvent, pid: number) => void;
}

/** The options of a pool, checked, with the defaults applied. */
export interface PoolSettings {
  /** The arguments of `deno` for each child: `run`, flags, the module and its arguments. */
  spawnArgs: string[];
  /** Number of children. */
  size: number;
  /** Calls one child runs at once. */
  concurrency: number;
  /** Most calls that may wait. */
  maxQueue: number;
  /** Default timeout of a call, if any. */
  timeout: number | undefined;
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
  const size = integerOption(
    owner,
    "size",
    options.size,
    navigator.hardwareConcurrency,
  );
  const concurrency = integerOption(
    owner,
    "concurrency",
    options.concurrency,
    1,
  );
  const maxQueue = limitOption(
    owner,
    "maxQueue",
    options.maxQueue,
    DEFAULT_MAX_QUEUE,
    0,
  );
  const timeout = durationOption(owner, "timeout", options.timeout);
  for (const name of ["stdout", "stderr"] as const) {
    // Nobody would read a piped stream: a child writing to it would block.
    choiceOption(owner, name, options[name], ["inherit", "null"], "inherit");
  }
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
    ...(options.denoArgs ?? []),
    modulePath(options.module),
    ...(options.args ?? []),
  ];
  return { spawnArgs, size, concurrency, maxQueue, timeout };
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
