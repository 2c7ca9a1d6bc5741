/**
 * {@linkcode Dispatcher}: a pool's calls — sending each to the least busy
 * child (starting one when all are busy and the pool may grow), queueing
 * the rest, settling each with its answer or the right error, and counting
 * them. One call is a {@linkcode PoolCall}, from the queue (`CallQueue`,
 * which also ends its wait on a timeout or an abort) to its answer.
 *
 * @module
 */

import {
  IpcClosedError,
  IpcQueueFullError,
  IpcRemoteError,
  IpcTimeoutError,
  poolChildExitedError,
} from "../errors.ts";
import { LatencyHistogram } from "../calls/stats.ts";
import type { IpcRequestOptions } from "../calls/types.ts";
import {
  checkCallStart,
  OutgoingCall,
  PEER_DONE,
  type PeerDoneOption,
} from "../calls/call.ts";
import { ArrayQueue } from "../internal/array_queue.ts";
import type { IpcPoolRequestOptions, PoolSettings } from "./options.ts";
import type { PoolChild } from "./pool_child.ts";
import { type PoolRun, poolRun } from "./pool_stream.ts";
import type { Recycler, Supervisor } from "./supervisor.ts";

/** Where a call is: waiting for a child, sent to one, or settled. */
export type PoolCallState = "queued" | "running" | "done";

/** One call of `pool.request()`: the channel's pending-call record, with what the pool adds. */
export class PoolCall extends OutgoingCall {
  readonly params: unknown;
  readonly signal: AbortSignal | undefined;
  readonly timeout: number | undefined;
  readonly deadline: number | undefined;
  /** `performance.now()` when it was sent to a child. */
  sentAt = 0;
  /** Kill the child when the call times out while it runs. */
  readonly killOnTimeout: boolean;
  state: PoolCallState = "queued";
  /** How to run it on the child, when not as a plain request (`pool_stream.ts`). */
  run: PoolRun | undefined = undefined;
  /**
   * The child it was sent to, while it is there: until its answer, or, once
   * its caller gave up, until the child says its handler ended.
   */
  child: PoolChild | undefined = undefined;
  /** It has a place in its child (by the pool's count), rather than waiting for one there. */
  started = false;
  /** Why its caller gave up while it was in its child ("timed out", "was cancelled"), if it did. */
  abandoned: string | undefined = undefined;
  /** `performance.now()` when its caller gave up. */
  abandonedAt = 0;
  /** Its handler still ran a grace period after its caller gave up. */
  overdue = false;
  /** Ends that grace period. */
  graceTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  /**
   * No call may be sent ahead (prefetch) to its child while it runs: it may
   * kill the child (`killOnTimeout`), or occupy it long (a stream).
   */
  get noneAhead(): boolean {
    return this.killOnTimeout || this.run !== undefined;
  }

  constructor(
    method: string,
    params: unknown,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    resolve: (value: unknown) => void,
    reject: (reason: unknown) => void,
    killOnTimeout: boolean,
  ) {
    super(method, resolve, reject, performance.now());
    this.params = params;
    this.signal = signal;
    this.timeout = timeout;
    this.deadline = timeout === undefined ? undefined : this.start + timeout;
    this.killOnTimeout = killOnTimeout;
  }
}

/** Calls waiting for a child, in order of arrival. */
class CallQueue {
  /** The calls; those that left early stay until they reach the head. */
  #calls = new ArrayQueue<PoolCall>();
  #length = 0;
  #onLeft: (call: PoolCall, reason: unknown) => void;

  /**
   * @param onLeft Told about a call that left the queue early (its timeout
   *   passed or its signal aborted), with the reason to reject it with.
   */
  constructor(onLeft: (call: PoolCall, reason: unknown) => void) {
    this.#onLeft = onLeft;
  }

  /** Calls waiting. */
  get length(): number {
    return this.#length;
  }

  /** Queues `call`, arming its timeout and abort signal. */
  push(call: PoolCall): void {
    this.#calls.push(call);
    this.#length++;
    call.watch(
      call.timeout,
      () => this.#leave(call, queueTimeoutError(call)),
      call.signal,
      (reason) => this.#leave(call, reason),
    );
  }

  /** Removes and returns the next call still waiting. */
  shift(): PoolCall | undefined {
    for (let call; (call = this.#calls.shift()) !== undefined;) {
      if (call.state === "queued") {
        this.#length--;
        call.settle();
        return call;
      }
    }
    return undefined;
  }

  #leave(call: PoolCall, reason: unknown): void {
    if (call.state !== "queued") return;
    this.#length--;
    this.#onLeft(call, reason);
  }
}

/** The error of a call whose timeout passed before a child was free. */
function queueTimeoutError(call: PoolCall): IpcTimeoutError {
  return new IpcTimeoutError(
    call.method,
    call.timeout ?? 0,
    `The call "${call.method}" waited for a free child longer than its timeout of ${call.timeout} ms, ` +
      `and was never sent. Raise the timeout, add children (size), or send fewer calls at once.`,
  );
}

/**
 * A handler whose caller gave up (a timeout, an abort) has this long to
 * end before its child is retired: replaced, and stopped once the calls
 * whose caller waits there end (killed at once when no place there will
 * free up).
 */
export const ABANDON_GRACE_MS = 2000;

/** How the call layer's timeout message says what became of the call in the peer. */
const CANCELLED_IN_PEER = ", and was cancelled in the peer.";

/** Sends, queues, settles and counts a pool's calls; see the module documentation. */
export class Dispatcher {
  #settings: PoolSettings;
  #children: Supervisor;
  #recycler: Recycler;
  /** Calls waiting for a child. */
  #queue = new CallQueue((call, reason) => {
    this.#reject(call, reason);
    this.#afterCall();
  });
  #inFlight = 0;
  /** Why new calls are refused, once the pool closes. */
  #closed: string | undefined;
  /** Why running calls were cancelled, once the pool closes with force. */
  #forced: string | undefined;
  #drained: PromiseWithResolvers<void> | undefined;
  #room: PromiseWithResolvers<void> | undefined;

  /** Calls that got a result. */
  succeeded = 0;
  /** Calls that failed. */
  failed = 0;
  /** `request()` to the answer. */
  readonly latency: LatencyHistogram = new LatencyHistogram();
  /** `request()` to sent. */
  readonly waitTime: LatencyHistogram = new LatencyHistogram();
  /** Sent to answered. */
  readonly runTime: LatencyHistogram = new LatencyHistogram();

  /**
   * @param settings The pool's settings.
   * @param children The pool's children.
   * @param recycler Retires children by the recycling settings.
   */
  constructor(
    settings: PoolSettings,
    children: Supervisor,
    recycler: Recycler,
  ) {
    this.#settings = settings;
    this.#children = children;
    this.#recycler = recycler;
  }

  /** Calls waiting for a child. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Calls sent to a child and not answered yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether a call now would be refused with `IpcQueueFullError`. */
  get full(): boolean {
    return this.#queue.length >= this.#settings.maxQueue &&
      this.#closed === undefined &&
      !this.#children.hasRoom(this.#settings.concurrency);
  }

  /** Resolves once a call would not be refused for a full queue (or the pool closes). */
  ready(): Promise<void> {
    if (!this.full) return Promise.resolve();
    this.#room ??= Promise.withResolvers<void>();
    return this.#room.promise;
  }

  /** Sends or queues a call; see `IpcPool.request()`. */
  submit<R>(
    method: string,
    params: unknown,
    options: IpcPoolRequestOptions | undefined,
  ): Promise<R> {
    if (this.#closed !== undefined) {
      this.failed++;
      return Promise.reject(
        new IpcClosedError(`Cannot call "${method}": ${this.#closed}`),
      );
    }
    const signal = options?.signal;
    const timeout = options?.timeout ?? this.#settings.timeout;
    try {
      checkCallStart(timeout, signal);
    } catch (error) {
      this.failed++;
      return Promise.reject(error);
    }
    const { promise, resolve, reject } = Promise.withResolvers<R>();
    const call = new PoolCall(
      method,
      params,
      signal,
      timeout === Infinity ? undefined : timeout,
      resolve as (value: unknown) => void,
      reject,
      options?.killOnTimeout ?? this.#settings.killOnTimeout,
    );
    call.run = poolRun(method, params, options);
    const child = this.#queue.length === 0 ? this.#freeChild() : undefined;
    if (child !== undefined) {
      this.#dispatch(call, child);
    } else if (this.#queue.length >= this.#settings.maxQueue) {
      this.failed++;
      return Promise.reject(
        new IpcQueueFullError(method, this.#settings.maxQueue),
      );
    } else {
      this.#queue.push(call);
    }
    return promise;
  }

  /** Sends queued calls to free children. */
  pump(): void {
    while (this.#queue.length > 0) {
      const child = this.#freeChild();
      if (child === undefined) return;
      const call = this.#queue.shift();
      if (call === undefined) return;
      this.#dispatch(call, child);
    }
  }

  /** Rejects every queued call with `error`. */
  failQueued(error: unknown): void {
    this.#failQueued(() => error);
  }

  /** Rejects every queued call with the error `errorFor` makes for its method. */
  #failQueued(errorFor: (method: string) => unknown): void {
    let call;
    while ((call = this.#queue.shift()) !== undefined) {
      this.#reject(call, errorFor(call.method));
    }
    this.#afterCall();
  }

  /**
   * Refuses new calls from now on, with `why`; with `force`, also rejects
   * the queued ones, and running ones once their child stops.
   */
  stop(why: string, force: boolean): void {
    this.#closed ??= why;
    if (force) {
      this.#forced ??= why;
      const forced = this.#forced;
      this.#failQueued((method) =>
        new IpcClosedError(`The call "${method}" was never sent: ${forced}`)
      );
    }
    this.#room?.resolve();
    this.#room = undefined;
  }

  /** Resolves once no call is queued or running. */
  drained(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) {
      return Promise.resolve();
    }
    this.#drained ??= Promise.withResolvers<void>();
    return this.#drained.promise;
  }

  /** A free child, or a new one when every child is busy and the pool may grow. */
  #freeChild(): PoolChild | undefined {
    return this.#children.leastBusy(this.#settings.concurrency) ??
      this.#children.grow();
  }

  #dispatch(call: PoolCall, child: PoolChild): void {
    call.settle();
    const options: IpcRequestOptions & PeerDoneOption = {
      signal: call.signal,
      // The child says when it is done with the call, even after its caller gave up.
      [PEER_DONE]: () => this.#peerDone(call, child),
    };
    if (call.deadline !== undefined) {
      const remaining = call.deadline - performance.now();
      if (remaining <= 0) {
        this.#reject(call, queueTimeoutError(call));
        return;
      }
      options.timeout = Math.ceil(remaining); // whole ms, for its message
    }
    call.state = "running";
    call.sentAt = performance.now();
    this.waitTime.record(call.sentAt - call.start);
    child.begin(call, this.#settings.concurrency);
    this.#inFlight++;
    const ipc = child.process.ipc;
    let answer: Promise<unknown>;
    try {
      answer = call.run?.(ipc, options) ??
        ipc.request(call.method, call.params, options);
    } catch (error) {
      answer = Promise.reject(error);
      this.#peerDone(call, child);
    }
    answer.then(
      (result) => this.#onAnswer(call, child, result),
      (error) => this.#onCallFailed(call, child, error),
    );
    this.#recycler.sent(child);
  }

  /** The child is done with `call`: answered it, or the handler its caller gave up on ended. */
  #peerDone(call: PoolCall, child: PoolChild): void {
    if (call.child !== child) return;
    if (call.graceTimer !== undefined) clearTimeout(call.graceTimer);
    child.end(call);
    if (child.live === 0) this.#children.released(child);
    this.#afterCall();
  }

  /** `call`'s handler still runs {@linkcode ABANDON_GRACE_MS} after its caller gave up. */
  #overdue(call: PoolCall, child: PoolChild): void {
    if (call.child !== child || !call.started) return;
    call.overdue = true;
    this.#children.retire(child, "abandoned", true);
    if (child.stuck) {
      child.kill(
        `it was killed because the handler of "${call.method}" still ran ${ABANDON_GRACE_MS} ms after ` +
          `its call ${call.abandoned} (it ignores its signal), and such handlers held every place in the child, ` +
          `so this call, sent ahead to it, had not started. Make that handler stop when context.signal fires, ` +
          `or use killOnTimeout for it`,
      );
    }
  }

  #onAnswer(call: PoolCall, child: PoolChild, result: unknown): void {
    this.#answered(call, child);
    this.succeeded++;
    call.state = "done";
    call.resolve(result);
    this.#settled(call, child, undefined);
    this.#afterCall();
  }

  #onCallFailed(call: PoolCall, child: PoolChild, error: unknown): void {
    if (error instanceof IpcClosedError) {
      if (this.#forced !== undefined) {
        this.#reject(
          call,
          new IpcClosedError(
            `The call "${call.method}" was cancelled: ${this.#forced}`,
            { cause: error },
          ),
        );
        this.#settled(call, child, "was cancelled");
        this.#afterCall();
        return;
      }
      // The child's channel closed under the call: report how the child ended.
      child.exited.promise.then((status) => {
        this.#reject(
          call,
          poolChildExitedError(
            this.#settings.kind,
            call.method,
            child.process.pid,
            status,
            {
              cause: error,
              reason: this.#recycler.explain(child, status, error),
            },
          ),
        );
        this.#settled(call, child, undefined);
        this.#afterCall();
      });
      return;
    }
    if (error instanceof IpcRemoteError) this.#answered(call, child);
    const timedOut = error instanceof IpcTimeoutError &&
      call.timeout !== undefined;
    const kill = timedOut && call.killOnTimeout;
    this.#reject(
      call,
      timedOut
        ? new IpcTimeoutError(
          call.method,
          call.timeout!,
          this.#timeoutMessage(error as IpcTimeoutError, call, child, kill),
          {
            pid: child.process.pid,
            receiveBufferFull: (error as IpcTimeoutError).receiveBufferFull,
            cause: error,
          },
        )
        : error,
    );
    this.#settled(call, child, timedOut ? "timed out" : "was cancelled");
    if (kill) this.#recycler.timedOut(child, call.method, call.timeout!);
    this.#afterCall();
  }

  /**
   * The pool's words for `call`'s timeout in `child`: the call layer's (a
   * stream's tell what arrived) with the pool's timeout, the child, and what
   * became of the call there; or, for a call that never had a place there,
   * what it waited behind.
   */
  #timeoutMessage(
    error: IpcTimeoutError,
    call: PoolCall,
    child: PoolChild,
    killed: boolean,
  ): string {
    const pid = child.process.pid;
    const method = JSON.stringify(call.method);
    if (call.child === child && !call.started) {
      const behind = child.abandonedRunning();
      if (behind.length > 0) {
        const first = behind[0];
        const ago = Math.round(performance.now() - first.abandonedAt);
        return `The call ${method} got no answer within its timeout of ${call.timeout} ms, and never started: ` +
          `it waited in the child with pid ${pid} behind the handler of ${
            JSON.stringify(first.method)
          }, whose call ${first.abandoned} ${ago} ms earlier but which still ran: that handler ignores its signal. ` +
          `Make it stop when context.signal fires, or use killOnTimeout for it. ` +
          `The pool sends no call ahead to a child running such a handler, and replaces the child ` +
          `if the handler has not ended ${ABANDON_GRACE_MS} ms after its call.`;
      }
      return `The call ${method} got no answer within its timeout of ${call.timeout} ms, and never started: ` +
        `it was sent ahead (prefetch) to the child with pid ${pid} and waited there for a place ` +
        `while longer calls ran. Raise the timeout, or set prefetch: 0 so calls wait in the pool's queue for a free child.`;
    }
    const inChild = killed
      ? ` from the child with pid ${pid}, which was killed (killOnTimeout) and is being replaced.`
      : ` from the child with pid ${pid}, and was cancelled there.`;
    const message = error.message.replace(
      `timeout of ${error.timeout} ms`,
      `timeout of ${call.timeout} ms`,
    );
    return message.includes(CANCELLED_IN_PEER)
      ? message.replace(CANCELLED_IN_PEER, inChild)
      : `${message}${inChild}`;
  }

  /** The child answered `call`, with a result or its handler's error. */
  #answered(call: PoolCall, child: PoolChild): void {
    const now = performance.now();
    this.latency.record(now - call.start);
    this.runTime.record(now - call.sentAt);
    this.#children.answered(child);
    this.#recycler.answered(child);
  }

  /**
   * `call` settled for its caller. Still in `child` (its caller gave up,
   * `how`), it counts there until the child says its handler ended, and
   * makes the child overdue if that takes longer than
   * {@linkcode ABANDON_GRACE_MS}.
   */
  #settled(call: PoolCall, child: PoolChild, how: string | undefined): void {
    this.#inFlight--;
    if (call.child === child) {
      child.abandon(call, how ?? "was cancelled");
      call.graceTimer = setTimeout(
        () => this.#overdue(call, child),
        ABANDON_GRACE_MS,
      );
    }
    if (child.live === 0) this.#children.released(child);
  }

  #reject(call: PoolCall, error: unknown): void {
    call.settle();
    call.state = "done";
    this.failed++;
    call.reject(error);
  }

  #afterCall(): void {
    this.pump();
    if (
      this.#drained !== undefined && this.#queue.length === 0 &&
      this.#inFlight === 0
    ) {
      this.#drained.resolve();
      this.#drained = undefined;
    }
    if (this.#room !== undefined && !this.full) {
      this.#room.resolve();
      this.#room = undefined;
    }
  }
}
