/**
 * {@linkcode IdleWatch}: the idle half of a pool's autoscaling — a child
 * above `minSize` that stays idle `idleTimeout` ms is let go. (The other
 * half, starting a child when a call would queue, is the supervisor's
 * `grow()`.)
 *
 * @module
 */

import type { PoolChild } from "./pool_child.ts";

/** What an {@linkcode IdleWatch} asks of the children it watches. */
export interface IdleWatchHost {
  /** Whether the pool may lose a child now (it runs more than `minSize`). */
  mayShrink(): boolean;
  /** Whether `child` still takes calls. */
  inService(child: PoolChild): boolean;
  /** Lets `child` go: it has been idle long enough. */
  expire(child: PoolChild): void;
}

/**
 * Arms one timer per idle child, only while the pool runs more than its
 * minimum; a busy child's timer is not cleared on each call but checked
 * when it fires, so calls cost nothing here.
 */
export class IdleWatch {
  #idleTimeout: number;
  #host: IdleWatchHost;
  #children = new Set<PoolChild>();

  /**
   * @param idleTimeout Milliseconds a child may stay idle.
   * @param host The pool's side.
   */
  constructor(idleTimeout: number, host: IdleWatchHost) {
    this.#idleTimeout = idleTimeout;
    this.#host = host;
  }

  /** `child` is idle (just started, or its last call ended): watch it. */
  idle(child: PoolChild): void {
    if (child.idleTimer !== undefined || !this.#host.mayShrink()) return;
    const left = this.#idleTimeout - (performance.now() - child.idleSince);
    this.#children.add(child);
    child.idleTimer = setTimeout(() => this.#check(child), Math.max(0, left));
  }

  /** Stops every timer. */
  stop(): void {
    for (const child of this.#children) this.#forget(child);
  }

  #check(child: PoolChild): void {
    this.#forget(child);
    const host = this.#host;
    // A busy child is watched again when its last call ends.
    if (child.inFlight > 0 || !host.inService(child)) return;
    if (performance.now() - child.idleSince < this.#idleTimeout) {
      this.idle(child);
    } else if (host.mayShrink()) {
      host.expire(child);
    }
  }

  #forget(child: PoolChild): void {
    clearTimeout(child.idleTimer);
    child.idleTimer = undefined;
    this.#children.delete(child);
  }
}
