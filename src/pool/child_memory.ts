/**
 * {@linkcode ChildMemory}: a pool child's memory — reading its resident
 * memory between calls, and telling an exit from running out of its V8
 * heap (`maxMemoryMiB`) from other exits.
 *
 * @module
 */

import type { IpcChildStatus } from "../process/stop_child.ts";
import { POOL_METHODS } from "./serve_parent_calls.ts";
import type { PoolChild } from "./pool_child.ts";

/** A memory reading that takes longer than this is dropped. */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Signals V8 ends a process with when its heap is exhausted ("Fatal
 * JavaScript out of memory" aborts with a breakpoint trap on x86-64).
 */
const OUT_OF_MEMORY_SIGNALS: readonly (Deno.Signal | null)[] = [
  "SIGTRAP",
  "SIGABRT",
];

/** Reads children's memory for a pool with `maxMemoryMiB`. */
export class ChildMemory {
  readonly #limitMiB: number;
  readonly #limitBytes: number;

  /** @param limitMiB The pool's `maxMemoryMiB`. */
  constructor(limitMiB: number) {
    this.#limitMiB = limitMiB;
    this.#limitBytes = limitMiB * 1024 * 1024;
  }

  /**
   * Asks `child` for its memory, unless a reading is under way, and calls
   * `over` when its RSS passed the limit. A child whose module does not
   * answer (it does not use `serveParentCalls()`) is not asked again.
   */
  check(child: PoolChild, over: () => void): void {
    if (child.probing || child.retired !== undefined) return;
    child.probing = true;
    child.process.ipc.request<{ rss: number }>(POOL_METHODS.memoryUsage, null, {
      timeout: PROBE_TIMEOUT_MS,
    }).then((usage) => {
      child.probing = false;
      if (typeof usage?.rss !== "number") return;
      child.rss = usage.rss;
      if (usage.rss > this.#limitBytes) over();
    }, () => {
      // Unanswered: leave `probing` set, so it is not asked again.
    });
  }

  /**
   * Why the child ended, when it looks like it exhausted its heap.
   *
   * @returns The explanation for {@linkcode IpcChildExitedError}, or `undefined`.
   */
  explain(status: IpcChildStatus): string | undefined {
    if (!OUT_OF_MEMORY_SIGNALS.includes(status.signal)) return undefined;
    return `it ran out of memory (its V8 heap is limited to maxMemoryMiB, ${this.#limitMiB} MiB). ` +
      `Raise maxMemoryMiB, or make the call use less memory`;
  }
}
