/**
 * {@linkcode Supervisor}: the child processes of a pool — starting them,
 * growing up to `maxSize` when calls would queue and shrinking to `minSize`
 * when children stay idle (`IdleWatch`), replacing those that exit (backing
 * off when they keep failing to start), retiring those to recycle
 * ({@linkcode Recycler}: `maxCallsPerChild`, `maxMemoryMiB`, `killOnTimeout`;
 * replacement first), choosing the least busy, and stopping them all.
 *
 * @module
 */

import type { IpcStreamStats } from "../channel/ipc_json_stream.ts";
import { IpcChildExitedError } from "../errors.ts";
import type { IpcChildProcess } from "../process/spawn_with_ipc.ts";
import type { IpcChildStatus } from "../process/stop_child.ts";
import type { PoolSettings } from "./options.ts";
import { PoolChild, type RetireCause } from "./pool_child.ts";
import { POOL_METHODS } from "./serve_parent_calls.ts";

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

/** Children started, and children that left service, by cause. */
export interface ChildCounts {
  /** Children started, replacements included. */
  starts: number;
  /** Children that exited or broke unexpectedly and were replaced. */
  restarts: number;
  /** Children retired, by cause (`idle` are the idle exits). */
  retirements: Record<RetireCause, number>;
}

/** Keeps a pool's children running; see the module documentation. */
export class Supervisor {
  #spawn: () => IpcChildProcess;
  #events: SupervisorEvents;
  #minSize: number;
  #maxSize: number;
  #concurrency: number;
  #prefetch: number;
  /** Children in service: they take calls. */
  #children: PoolChild[] = [];
  /** Every child process not known to have exited, to stop them all. */
  #processes = new Set<PoolChild>();
  #idle: IdleWatch;
  /** Where the last search for a free child stopped. */
  #next = 0;
  #stopping = false;
  #restartTimers = new Set<ReturnType<typeof setTimeout>>();
  #earlyExits = 0;
  #counts: ChildCounts = {
    starts: 0,
    restarts: 0,
    retirements: { maxCalls: 0, memory: 0, timeout: 0, abandoned: 0, idle: 0 },
  };
  /** Messages and bytes of the children that are gone. */
  #retired: StreamTotals = {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
  /** Busy and alive milliseconds of the children that are gone. */
  #goneBusyMs = 0;
  #goneAliveMs = 0;

  /**
   * Starts `minSize` children; when one cannot start, kills those already
   * started and throws.
   *
   * @param settings The pool's sizes and idle timeout.
   * @param spawn Starts one child.
   * @param events What to tell the pool.
   */
  constructor(
    settings: Pick<
      PoolSettings,
      "minSize" | "maxSize" | "idleTimeout" | "concurrency" | "prefetch"
    >,
    spawn: () => IpcChildProcess,
    events: SupervisorEvents,
  ) {
    this.#spawn = spawn;
    this.#events = events;
    this.#minSize = settings.minSize;
    this.#maxSize = settings.maxSize;
    this.#concurrency = settings.concurrency;
    this.#prefetch = settings.prefetch;
    this.#idle = new IdleWatch(settings.idleTimeout, {
      mayShrink: () => this.#children.length > this.#minSize,
      inService: (child) => this.#children.includes(child),
      expire: (child) => this.retire(child, "idle", false),
    });
    try {
      for (let i = 0; i < settings.minSize; i++) {
        this.#children.push(this.#start());
      }
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

  /** Children started and retired, by cause. */
  get counts(): ChildCounts {
    const { retirements, ...rest } = this.#counts;
    return { ...rest, retirements: { ...retirements } };
  }

  /** Messages and bytes of every child, those gone included. */
  totals(): StreamTotals {
    const totals = { ...this.#retired };
    for (const child of this.#processes) {
      addTotals(totals, child.process.ipc.stats());
    }
    return totals;
  }

  /** Busy child-time over available child-time, of every child so far (0 to 1). */
  utilization(): number {
    const now = performance.now();
    let busy = this.#goneBusyMs;
    let alive = this.#goneAliveMs;
    for (const child of this.#processes) {
      busy += child.busyUntilNow(now);
      alive += (child.endedAt ?? now) - child.startedAt;
    }
    return alive > 0 ? Math.min(1, busy / alive) : 0;
  }

  /**
   * The child with the fewest calls in flight, under `concurrency` plus
   * its prefetch; ties go round-robin.
   */
  leastBusy(concurrency: number): PoolChild | undefined {
    const children = this.#children;
    const count = children.length;
    let best: PoolChild | undefined;
    for (let i = 0; i < count; i++) {
      const child = children[(this.#next + i) % count];
      if (
        child.inFlight < concurrency + prefetchOf(child) &&
        (best === undefined || child.inFlight < best.inFlight)
      ) {
        best = child;
        if (child.inFlight === 0) break;
      }
    }
    if (best !== undefined) this.#next = (children.indexOf(best) + 1) % count;
    return best;
  }

  /**
   * Starts one more child for a call that would otherwise wait, unless
   * `maxSize` run, children are failing to start, or the pool is stopping.
   *
   * @returns The new child, or `undefined`.
   */
  grow(): PoolChild | undefined {
    if (!this.#mayGrow()) return undefined;
    try {
      const child = this.#start();
      this.#children.push(child);
      return child;
    } catch (error) {
      this.#cannotStart(error);
      return undefined;
    }
  }

  /** Whether a call could be sent now: a child runs fewer than `concurrency` calls, or the pool may grow. */
  hasRoom(concurrency: number): boolean {
    return this.#children.some((child) =>
      child.inFlight < concurrency + prefetchOf(child)
    ) ||
      this.#mayGrow();
  }

  #mayGrow(): boolean {
    return !this.#stopping && this.#earlyExits === 0 &&
      this.#children.length + this.#restartTimers.size < this.#maxSize;
  }

  /** A child answered a call: children start fine again, so no back-off. */
  answered(child: PoolChild): void {
    child.completed++;
    this.#earlyExits = 0;
  }

  /**
   * No caller waits on `child` any more: stop it if retired (handlers whose
   * caller gave up are not waited for), else watch it idle once no call is
   * in it.
   */
  released(child: PoolChild): void {
    if (child.retired !== undefined) {
      if (!this.#stopping) child.stop().catch(() => {});
    } else if (child.inFlight === 0) {
      this.#idle.idle(child);
    }
  }

  /**
   * Takes `child` out of service: it gets no more calls, and is stopped once
   * the calls whose caller waits end. With `replace`, its replacement is
   * started first, so capacity never dips.
   */
  retire(child: PoolChild, cause: RetireCause, replace: boolean): void {
    const index = this.#children.indexOf(child);
    if (this.#stopping || index === -1) return;
    this.#children.splice(index, 1);
    child.retired = cause;
    this.#counts.retirements[cause]++;
    // Started before the old child stops: it boots while that one finishes.
    if (replace) this.#replace();
    if (child.live === 0) child.stop().catch(() => {});
  }

  /** Stops every child: closes its channel, kills it if it lingers; with `force`, SIGTERM at once. */
  async stopAll(force = false): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#restartTimers) clearTimeout(timer);
    this.#restartTimers.clear();
    this.#idle.stop();
    this.#children = [];
    await Promise.all([...this.#processes].map((child) => child.stop(force)));
  }

  #start(): PoolChild {
    const process = this.#spawn();
    const child = new PoolChild(process);
    this.#counts.starts++;
    this.#processes.add(child);
    process.ipc.closed.then(() => this.#onChannelClosed(child));
    process.status.then((status) => this.#onExit(child, status));
    // Once both are over, its channel's figures are final.
    Promise.all([process.status, process.ipc.closed]).then(() => {
      this.#processes.delete(child);
      addTotals(this.#retired, process.ipc.stats());
      const end = child.endedAt ?? performance.now();
      this.#goneBusyMs += child.busyUntilNow(end);
      this.#goneAliveMs += end - child.startedAt;
    });
    this.#idle.idle(child);
    if (this.#prefetch > 0) this.#agreePrefetch(child);
    return child;
  }

  /**
   * Tells the child the pool's `concurrency`, before any call; once it
   * agrees to run no more at once, calls may be sent ahead to it.
   */
  #agreePrefetch(child: PoolChild): void {
    const concurrency = this.#concurrency;
    child.process.ipc.request(POOL_METHODS.concurrency, concurrency).then(
      (limit) => {
        if (limit !== concurrency || child.retired !== undefined) return;
        child.prefetch = this.#prefetch;
        if (!this.#stopping) this.#events.started();
      },
      () => {
        // Not a serveParentCalls() child, or it ended: no prefetch.
      },
    );
  }

  /** The child's channel closed: it exited, or broke its channel and is useless. */
  #onChannelClosed(child: PoolChild): void {
    if (this.#stopping) return;
    this.#lost(child);
    if (child.exitStatus === undefined) {
      const timer = setTimeout(() => child.kill(), EXIT_GRACE_MS);
      child.process.status.then(() => clearTimeout(timer));
    }
  }

  #onExit(child: PoolChild, status: IpcChildStatus): void {
    child.exitStatus = status;
    child.endedAt ??= performance.now();
    child.exited.resolve(status);
    if (!this.#stopping) this.#lost(child);
  }

  /** Takes an exited or broken child out of service and starts its replacement. */
  #lost(child: PoolChild): void {
    const index = this.#children.indexOf(child);
    if (index === -1) return;
    this.#children.splice(index, 1);
    this.#counts.restarts++;
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
      this.#cannotStart(error);
      return;
    }
    this.#events.started();
  }

  #cannotStart(error: unknown): void {
    this.#earlyExits++;
    if (this.#children.length === 0) this.#events.cannotStart(error);
    this.#replaceLater(MAX_RESTART_DELAY_MS);
  }

  #replaceLater(delay: number): void {
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      this.#replace();
    }, delay);
    this.#restartTimers.add(timer);
  }
}

/**
 * Calls `child` may take beyond `concurrency`: none while a call that may
 * kill it, a stream, or a handler whose caller gave up runs there.
 */
function prefetchOf(child: PoolChild): number {
  return child.noneAhead === 0 && child.abandoned === 0 ? child.prefetch : 0;
}

/** Messages and bytes summed over channels. */
export interface StreamTotals {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

/** Adds a channel's messages and bytes to `totals`. */
function addTotals(
  totals: StreamTotals,
  stats: IpcStreamStats,
): void {
  totals.messagesIn += stats.messagesIn;
  totals.messagesOut += stats.messagesOut;
  totals.bytesIn += stats.bytesIn;
  totals.bytesOut += stats.bytesOut;
}

/** What an {@linkcode IdleWatch} asks of the children it watches. */
interface IdleWatchHost {
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
class IdleWatch {
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
class ChildMemory {
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
