/**
 * {@linkcode PoolChild}: one child of an `IpcPool` — how it is started
 * ({@linkcode spawnPoolChild}: a process or a worker), the calls it runs, how
 * busy it has been, how it is stopped, and what becomes of the plain
 * messages it sends besides answers.
 *
 * @module
 */

import { channelOptionsOf } from "../channel/options.ts";
import type { IpcJsonStream } from "../channel/ipc_json_stream.ts";
import {
  type IpcChildProcess,
  spawnWithIpc,
} from "../process/spawn_with_ipc.ts";
import {
  spawnWorkerWithIpc,
  workerAsChild,
} from "../process/spawn_worker_with_ipc.ts";
import { type IpcChildStatus, stopChild } from "../process/stop_child.ts";
import {
  type IpcPoolMessageHandler,
  type IpcPoolOptions,
  POOL_CHANNEL_OPTIONS,
  type PoolSettings,
} from "./options.ts";

/** On `close()`, a child has this long to exit after its channel closes, and again after SIGTERM. */
const STOP_GRACE_MS = 5000;
/** A child stopped at once (forced close) has this long between SIGTERM and SIGKILL. */
const FORCE_GRACE_MS = 1000;

/**
 * Why a child left service while the pool was open; `abandoned`: a handler
 * still ran a grace period after its caller gave up (a timeout, an abort).
 */
export type RetireCause =
  | "maxCalls"
  | "memory"
  | "timeout"
  | "abandoned"
  | "idle";

/** What a child keeps of each call in it (the dispatcher's `PoolCall`). */
export interface ChildCall {
  readonly method: string;
  /** No call may be sent ahead to its child while it runs. */
  readonly noneAhead: boolean;
  /** The child it is in, while it is there. */
  child: PoolChild | undefined;
  /** It has a place in its child, rather than waiting for one there. */
  started: boolean;
  /** Why its caller gave up while it was in its child, if it did. */
  abandoned: string | undefined;
  /** `performance.now()` when its caller gave up. */
  abandonedAt: number;
  /** Its handler still ran a grace period after its caller gave up. */
  overdue: boolean;
}

/** One child and the calls it runs. */
export class PoolChild {
  /** The process and its channel. */
  readonly process: IpcChildProcess;
  /** `performance.now()` when it was started. */
  readonly startedAt: number = performance.now();
  /** Resolved with its status when it exits. */
  readonly exited: PromiseWithResolvers<IpcChildStatus> = Promise
    .withResolvers<IpcChildStatus>();
  /** Its status once it exited. */
  exitStatus: IpcChildStatus | undefined;
  /** `performance.now()` when it exited. */
  endedAt: number | undefined;
  /**
   * Calls in it: sent and not answered yet, and those whose caller gave up
   * while their handler still runs there (the child answers when it ends).
   */
  inFlight = 0;
  /** Of `inFlight`, calls whose caller gave up (timeout, abort, a stream left early). */
  abandoned = 0;
  /** Calls it runs, by the pool's count: at most `concurrency`, the others wait there for a place. */
  #running = new Set<ChildCall>();
  /** Calls sent ahead (prefetch) waiting in it for a place, in order. */
  #waiting: ChildCall[] = [];
  /** Calls sent to it. */
  calls = 0;
  /** Calls it answered (with a result or an error of its handler). */
  completed = 0;
  /** Milliseconds it had at least one call in flight, until `busySince`. */
  busyMs = 0;
  /** `performance.now()` when its calls in flight went from 0 to 1. */
  busySince = 0;
  /** `performance.now()` when it last became idle. */
  idleSince: number = performance.now();
  /** Its idle timer, armed while it may exit for being idle. */
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Why it was taken out of service, if it was. */
  retired: RetireCause | undefined;
  /** Its resident memory in bytes, as last reported, if known. */
  rss: number | undefined;
  /** Calls it may be sent beyond `concurrency`: the pool's `prefetch` once it agreed to wait them out. */
  prefetch = 0;
  /**
   * Calls in flight behind which no call is sent ahead to it: those that
   * kill it if they time out (`killOnTimeout`), and streams.
   */
  noneAhead = 0;
  /** A memory check is under way. */
  probing = false;
  /** Why it was killed, to tell the calls it was running. */
  killedFor: string | undefined;
  #stopped: Promise<void> | undefined;

  /** @param process The child, just started. */
  constructor(process: IpcChildProcess) {
    this.process = process;
  }

  /** Calls in it whose caller still waits for the answer. */
  get live(): number {
    return this.inFlight - this.abandoned;
  }

  /**
   * Counts `call`, sent to it: it runs at once if fewer than `concurrency`
   * run there, else waits there for a place (the child's limit, agreed with
   * `tether.poolConcurrency`, is `concurrency`).
   */
  begin(call: ChildCall, concurrency: number): void {
    if (this.inFlight++ === 0) this.busySince = performance.now();
    this.calls++;
    if (call.noneAhead) this.noneAhead++;
    call.child = this;
    call.started = this.#running.size < concurrency;
    if (call.started) this.#running.add(call);
    else this.#waiting.push(call);
  }

  /** Counts `call`'s caller giving up while the call is still in it. */
  abandon(call: ChildCall, how: string): void {
    call.abandoned = how;
    call.abandonedAt = performance.now();
    this.abandoned++;
  }

  /** The calls it runs whose caller gave up, the oldest first. */
  abandonedRunning(): ChildCall[] {
    return [...this.#running].filter((call) => call.abandoned !== undefined);
  }

  /**
   * `true` when calls wait in it for a place that no call running there
   * will give up: each of those is overdue (see `ChildCall.overdue`).
   */
  get stuck(): boolean {
    return this.#waiting.length > 0 &&
      [...this.#running].every((call) => call.overdue);
  }

  /**
   * Counts `call` over in it: answered, or its abandoned handler ended; the
   * first call waiting there takes its place.
   *
   * @returns `true` when it has no call in it any more.
   */
  end(call: ChildCall): boolean {
    call.child = undefined;
    if (call.abandoned !== undefined) this.abandoned--;
    if (call.noneAhead) this.noneAhead--;
    if (this.#running.delete(call)) {
      const next = this.#waiting.shift();
      if (next !== undefined) {
        next.started = true;
        this.#running.add(next);
      }
    } else {
      this.#waiting.splice(this.#waiting.indexOf(call), 1);
    }
    if (--this.inFlight > 0) return false;
    const now = performance.now();
    this.busyMs += now - this.busySince;
    this.idleSince = now;
    return true;
  }

  /** Milliseconds it was busy, until now. */
  busyUntilNow(now: number): number {
    return this.busyMs + (this.inFlight > 0 ? now - this.busySince : 0);
  }

  /** Kills the child with SIGKILL unless it has exited. */
  kill(why?: string): void {
    if (this.exitStatus !== undefined) return;
    this.killedFor ??= why;
    this.process.kill("SIGKILL");
  }

  /**
   * Stops the child with `stopChild()`: closes its channel, so its handlers
   * stop keeping it alive, and gives it 5 s to exit, then SIGTERM, then
   * SIGKILL 5 s later. With `force`, SIGTERM at once and SIGKILL 1 s later.
   */
  stop(force = false): Promise<void> {
    if (force) return this.#stop(true);
    this.#stopped ??= this.#stop(false);
    return this.#stopped;
  }

  async #stop(force: boolean): Promise<void> {
    const ipc = this.process.ipc;
    if (force) {
      const closed = ipc.close();
      await stopChild(this.process, { killTimeout: FORCE_GRACE_MS });
      await closed;
    } else {
      await stopChild(this.process, {
        killTimeout: STOP_GRACE_MS,
        graceful: () => ipc.close(),
      });
      await ipc.close();
    }
  }
}

/**
 * Starts one child of a pool: `deno` with the pool's arguments, its
 * environment and standard streams, and a channel with its limits.
 *
 * @param options The pool's options.
 * @param settings The pool's checked settings.
 * @param plain Where to count the plain messages the child sends.
 * @returns The running child.
 * @throws {IpcSpawnError} When Deno cannot be started.
 */
export function spawnPoolChild(
  options: IpcPoolOptions,
  settings: PoolSettings,
  plain: PlainMessageCounts,
): IpcChildProcess {
  if (settings.kind === "worker") {
    const worker = spawnWorker(options);
    readPlainMessages(worker.ipc, worker.pid, options.onMessage, plain);
    return worker;
  }
  const trace = options.trace;
  let pid = 0;
  const process = spawnWithIpc(Deno.execPath(), {
    args: settings.spawnArgs,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: options.stdout,
    stderr: options.stderr,
    ...channelOptions(options),
    trace: trace === undefined ? undefined : (event) => trace(event, pid),
  });
  pid = process.pid;
  readPlainMessages(process.ipc, pid, options.onMessage, plain);
  return process;
}

/** A worker in the shape of a child; its `pid` is this process's. */
function spawnWorker(options: IpcPoolOptions): IpcChildProcess {
  const trace = options.trace;
  return workerAsChild(spawnWorkerWithIpc(options.module, {
    name: `pool-worker-${++workersStarted}`,
    permissions: options.permissions,
    unstableWorkerOptions: options.unstableWorkerOptions,
    ...channelOptions(options),
    trace: trace === undefined ? undefined : (event) => trace(event, Deno.pid),
  }));
}

let workersStarted = 0;

/** The options of each child's channel among the pool's. */
function channelOptions(options: IpcPoolOptions) {
  return channelOptionsOf(
    { ...options, trace: undefined },
    POOL_CHANNEL_OPTIONS,
  );
}

/** The plain messages of every child of one pool. */
export interface PlainMessageCounts {
  /** Messages handed to `onMessage`. */
  delivered: number;
  /** Messages dropped because the pool has no `onMessage`. */
  dropped: number;
}

/**
 * Reads every plain message of one child's channel as it arrives, until the
 * channel ends, and hands it to `onMessage`, or counts it as dropped when
 * there is none. `onMessage` is not awaited; an error it throws is reported
 * with `reportError()` (an uncaught exception, unless an `error` listener on
 * `globalThis` handles it) and reading goes on.
 *
 * @param channel The child's channel.
 * @param pid The child's pid.
 * @param onMessage The pool's `onMessage` option.
 * @param counts Where to count the messages.
 * @returns A promise that resolves once the channel has ended.
 *
 * @example
 * ```ts
 * import { IpcJsonStream } from "../../mod.ts";
 * import { readPlainMessages } from "./pool_child.ts";
 *
 * const channel = new IpcJsonStream({ readable: new Blob(['"hi"\n']).stream(), writable: new WritableStream() });
 * const counts = { delivered: 0, dropped: 0 };
 * await readPlainMessages(channel, 42, (message, pid) => console.log(message, pid), counts); // hi 42
 * ```
 */
export async function readPlainMessages(
  channel: IpcJsonStream,
  pid: number,
  onMessage: IpcPoolMessageHandler | undefined,
  counts: PlainMessageCounts,
): Promise<void> {
  try {
    for await (const message of channel) {
      if (onMessage === undefined) {
        counts.dropped++;
        continue;
      }
      counts.delivered++;
      try {
        onMessage(message, pid);
      } catch (error) {
        reportError(error);
      }
    }
  } catch {
    // Bad input ends the channel; the supervisor replaces the child.
  }
}
