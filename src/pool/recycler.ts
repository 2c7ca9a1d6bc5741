/**
 * {@linkcode Recycler}: when a pool retires a child while the pool is open —
 * after `maxCallsPerChild` calls, when its memory passed `maxMemoryMiB`, or
 * when a call timed out with `killOnTimeout` — and what the calls it was
 * running are told.
 *
 * @module
 */

import type { IpcChildStatus } from "../process/spawn_with_ipc.ts";
import { ChildMemory } from "./child_memory.ts";
import type { PoolSettings } from "./options.ts";
import type { PoolChild } from "./pool_child.ts";
import type { Supervisor } from "./supervisor.ts";

/** Retires children by the pool's recycling settings; see the module documentation. */
export class Recycler {
  #maxCalls: number;
  #memory: ChildMemory | undefined;
  #children: Supervisor;

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
   * Why `child` ended, when the pool knows: it was killed on a timeout, or
   * it ran out of memory.
   */
  explain(child: PoolChild, status: IpcChildStatus): string | undefined {
    return child.killedFor ?? this.#memory?.explain(status);
  }
}
