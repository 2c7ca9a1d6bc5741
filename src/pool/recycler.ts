/**
 * {@linkcode Recycler}: when a pool retires a child while the pool is open —
 * after `maxCallsPerChild` calls, when its memory passed `maxMemoryMiB`, or
 * when a call timed out with `killOnTimeout` — and what the calls it was
 * running are told.
 *
 * @module
 */

import { IpcChildExitedError } from "../process/errors.ts";
import type { IpcChildStatus } from "../process/stop_child.ts";
import { ChildMemory } from "./child_memory.ts";
import type { PoolSettings } from "./options.ts";
import type { PoolChild } from "./pool_child.ts";
import type { Supervisor } from "./supervisor.ts";

/** Retires children by the pool's recycling settings; see the module documentation. */
export class Recycler {
  #maxCalls: number;
  #memory: ChildMemory | undefined;
  #children: Supervisor;
  #settings: PoolSettings;

  /**
   * @param settings The pool's settings.
   * @param children The pool's children.
   */
  constructor(settings: PoolSettings, children: Supervisor) {
    this.#maxCalls = settings.maxCallsPerChild;
    this.#memory = settings.maxMemoryMiB === undefined
      ? undefined
      : new ChildMemory(settings.maxMemoryMiB);
    this.#children = children;
    this.#settings = settings;
  }

  /** A call was sent to `child`: retire it after its last allowed call. */
  sent(child: PoolChild): void {
    if (child.calls >= this.#maxCalls) {
      this.#children.retire(child, "maxCalls", true);
    }
  }

  /** `child` answered a call: check its memory. */
  answered(child: PoolChild): void {
    this.#memory?.check(
      child,
      () => this.#children.retire(child, "memory", true),
    );
  }

  /** A call on `child` timed out: kill the child and replace it. */
  timedOut(child: PoolChild, method: string, timeout: number): void {
    this.#children.retire(child, "timeout", true);
    child.kill(
      `it was killed because the call "${method}" ran past its timeout of ${timeout} ms (killOnTimeout)`,
    );
  }

  /**
   * Why `child` ended, when the pool knows: it was killed on a timeout, it
   * ran out of memory, or it failed before answering any call, and where
   * to read why (`cause`: the error that closed its channel).
   */
  explain(
    child: PoolChild,
    status: IpcChildStatus,
    cause: unknown,
  ): string | undefined {
    return child.killedFor ?? this.#memory?.explain(status) ??
      this.#explainEarly(child, status, cause);
  }

  #explainEarly(
    child: PoolChild,
    status: IpcChildStatus,
    cause: unknown,
  ): string | undefined {
    if (child.completed > 0 || status.success || status.signal !== null) {
      return undefined;
    }
    const early =
      "it had answered no call, as when its module fails to load or throws at startup";
    if (this.#settings.kind === "worker") {
      const ended = workerError(cause);
      return ended === undefined ? early : `${early}; ${ended.message}`;
    }
    // With stderr: "null", IpcChildExitedError itself says how to see it.
    return this.#settings.stderr === "inherit"
      ? `${early}; its error is on this process's stderr, which the children share (stderr: "inherit")`
      : early;
  }
}

/** The worker's own error, somewhere in the chain of `cause`s. */
function workerError(cause: unknown): IpcChildExitedError | undefined {
  for (let depth = 0; cause instanceof Error && depth < 4; depth++) {
    if (cause instanceof IpcChildExitedError && cause.kind === "worker") {
      return cause;
    }
    cause = cause.cause;
  }
  return undefined;
}
