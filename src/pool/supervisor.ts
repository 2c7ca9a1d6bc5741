/**
 * {@linkcode Supervisor}: the child processes of a pool — starting them,
 * replacing those that exit (backing off when they keep failing to start),
 * choosing the least busy, and stopping them all.
 *
 * @module
 */

import type {
  IpcChildProcess,
  IpcChildStatus,
} from "../process/spawn_with_ipc.ts";
import { PoolChild } from "./pool_child.ts";
import { addTotals, type StreamTotals } from "./stats.ts";

/**
 * After a child's channel closes, the child has this long to exit by itself
 * (so its own exit code is reported) before it is killed.
 */
const EXIT_GRACE_MS = 1000;
/** A child that exits this soon after starting, before answering a call, counts as failing to start. */
const EARLY_EXIT_MS = 2000;
/** Replacing children that keep failing to start waits 100 ms, 200 ms, … up to this. */
const MAX_RESTART_DELAY_MS = 5000;

/** What a {@linkcode Supervisor} tells its pool. */
export interface SupervisorEvents {
  /** A new child is ready for calls. */
  started(): void;
  /** No child could be started, and none runs. */
  cannotStart(error: unknown): void;
}

/** Keeps a pool's children running; see the module documentation. */
export class Supervisor {
  #spawn: () => IpcChildProcess;
  #events: SupervisorEvents;
  /** Children in service: they take calls. */
  #children: PoolChild[] = [];
  /** Every child process not known to have exited, to stop them all. */
  #processes = new Set<PoolChild>();
  /** Where the last search for a free child stopped. */
  #next = 0;
  #stopping = false;
  #restartTimers = new Set<ReturnType<typeof setTimeout>>();
  #earlyExits = 0;
  #restarts = 0;
  /** Messages and bytes of the children that are gone. */
  #retired: StreamTotals = {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
  };

  /**
   * Starts `size` children; when one cannot start, kills those already
   * started and throws.
   *
   * @param size How many children to keep.
   * @param spawn Starts one child.
   * @param events What to tell the pool.
   */
  constructor(
    size: number,
    spawn: () => IpcChildProcess,
    events: SupervisorEvents,
  ) {
    this.#spawn = spawn;
    this.#events = events;
    try {
      for (let i = 0; i < size; i++) this.#children.push(this.#start());
    } catch (error) {
      // Do not leave the children already started running without a pool.
      for (const child of this.#children) child.kill();
      throw error;
    }
  }

  /** Children in service. */
  get children(): readonly PoolChild[] {
    return this.#children;
  }

  /** Children that exited or broke while the pool was open, and were replaced. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Messages and bytes of every child, those gone included. */
  totals(): StreamTotals {
    const totals = { ...this.#retired };
    for (const child of this.#processes) {
      addTotals(totals, child.process.ipc.stats());
    }
    return totals;
  }

  /**
   * The child with the fewest calls in flight, under `concurrency`; ties go
   * round-robin.
   */
  leastBusy(concurrency: number): PoolChild | undefined {
    const children = this.#children;
    const count = children.length;
    let best: PoolChild | undefined;
    for (let i = 0; i < count; i++) {
      const child = children[(this.#next + i) % count];
      if (
        child.inFlight < concurrency &&
        (best === undefined || child.inFlight < best.inFlight)
      ) {
        best = child;
        if (child.inFlight === 0) break;
      }
    }
    if (best !== undefined) this.#next = (children.indexOf(best) + 1) % count;
    return best;
  }

  /** A child answered a call: children start fine again, so no back-off. */
  answered(child: PoolChild): void {
    child.completed++;
    this.#earlyExits = 0;
  }

  /** Stops every child: closes its channel, kills it if it lingers. */
  async stopAll(): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#restartTimers) clearTimeout(timer);
    this.#restartTimers.clear();
    this.#children = [];
    await Promise.all([...this.#processes].map((child) => child.stop()));
  }

  #start(): PoolChild {
    const process = this.#spawn();
    const child = new PoolChild(process);
    this.#processes.add(child);
    process.ipc.closed.then(() => this.#onChannelClosed(child));
    process.status.then((status) => this.#onExit(child, status));
    // Once both are over, its channel's figures are final.
    Promise.all([process.status, process.ipc.closed]).then(() => {
      this.#processes.delete(child);
      addTotals(this.#retired, process.ipc.stats());
    });
    return child;
  }

  /** The child's channel closed: it exited, or broke its channel and is useless. */
  #onChannelClosed(child: PoolChild): void {
    if (this.#stopping) return;
    this.#retire(child);
    if (child.exitStatus === undefined) {
      const timer = setTimeout(() => child.kill(), EXIT_GRACE_MS);
      child.process.status.then(() => clearTimeout(timer));
    }
  }

  #onExit(child: PoolChild, status: IpcChildStatus): void {
    child.exitStatus = status;
    child.exited.resolve(status);
    if (!this.#stopping) this.#retire(child);
  }

  /** Takes an exited or broken child out of service and starts its replacement. */
  #retire(child: PoolChild): void {
    const index = this.#children.indexOf(child);
    if (index === -1) return;
    this.#children.splice(index, 1);
    this.#restarts++;
    const early = child.completed === 0 &&
      performance.now() - child.startedAt < EARLY_EXIT_MS;
    this.#earlyExits = early ? this.#earlyExits + 1 : 0;
    if (this.#earlyExits === 0) {
      this.#replace();
    } else {
      this.#replaceLater(
        Math.min(100 * 2 ** (this.#earlyExits - 1), MAX_RESTART_DELAY_MS),
      );
    }
  }

  #replace(): void {
    if (this.#stopping) return;
    try {
      this.#children.push(this.#start());
    } catch (error) {
      this.#earlyExits++;
      if (this.#children.length === 0) this.#events.cannotStart(error);
      this.#replaceLater(MAX_RESTART_DELAY_MS);
      return;
    }
    this.#events.started();
  }

  #replaceLater(delay: number): void {
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      this.#replace();
    }, delay);
    this.#restartTimers.add(timer);
  }
}
