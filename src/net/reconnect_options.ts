/**
 * The `reconnect` option of {@linkcode connectIpc}: how often and how fast
 * to try again (the back-off and its timer), which failures are worth
 * retrying, and what the program is told meanwhile.
 *
 * @module
 */

import { IpcClosedError, IpcHandshakeError } from "../errors.ts";
import { durationOption, limitOption } from "../internal/check_option.ts";

/**
 * Where a reconnecting channel is: `"open"` while connected,
 * `"reconnecting"` between a dropped connection and the next one, and
 * `"closed"` for good (after `close()`, or when it gave up).
 *
 * @example
 * ```ts
 * import type { IpcReconnectState } from "@tether/ipc";
 *
 * const state: IpcReconnectState = "reconnecting";
 * ```
 */
export type IpcReconnectState = "open" | "reconnecting" | "closed";

/**
 * What `onStateChange` is told.
 *
 * @example Show the connection's state
 * ```ts
 * import type { IpcReconnectEvent } from "@tether/ipc";
 *
 * function show(event: IpcReconnectEvent): string {
 *   return event.state === "reconnecting"
 *     ? `reconnecting (attempt ${event.attempt}): ${event.error?.message}`
 *     : event.state;
 * }
 * ```
 */
export interface IpcReconnectEvent {
  /** The new state. */
  state: IpcReconnectState;
  /**
   * While reconnecting: the number of the attempt about to be made (1 for
   * the first after a drop). When open again or closed: the attempts made.
   */
  attempt: number;
  /**
   * Why: the failure that dropped the connection, the last attempt's
   * failure, or what made it give up. `undefined` when open, and when
   * `close()` was called.
   */
  error?: Error;
  /** While reconnecting: milliseconds before the next attempt. */
  delay?: number;
  /**
   * On the first event after a drop (`"reconnecting"`, `attempt` 1): how
   * many `send()`s resolved on the connection that dropped without the
   * server acknowledging that its program took them. They may have reached
   * it or not; every other resolved `send()` of that connection did. Without
   * the heartbeat (off, or a server that does not answer it), every `send()`
   * of the connection counts. See `docs/network.md#reconnecting`.
   */
  sendsMaybeLost?: number;
}

/**
 * Options of a {@linkcode connectIpc} channel that reconnects when the
 * connection drops: jittered exponential backoff between attempts.
 *
 * @example A client that follows a daemon across restarts
 * ```ts ignore
 * import { connectIpc } from "@tether/ipc";
 *
 * const daemon = await connectIpc({
 *   path: "/run/user/1000/app/app.sock",
 *   reconnect: {
 *     maxDelay: 2_000,
 *     onStateChange: ({ state, error }) => console.error("daemon:", state, error?.message ?? ""),
 *   },
 * });
 * for await (const event of daemon) console.log(event); // goes on across restarts
 * ```
 */
export interface IpcReconnectOptions {
  /**
   * Attempts in a row after a drop before giving up (the channel then
   * closes, its iterator throws the last failure). `Infinity` never gives
   * up. A wrong key, or a missing permission, gives up at once.
   *
   * @default {Infinity}
   */
  retries?: number;
  /**
   * Milliseconds before the first attempt; each next one waits twice as
   * long, up to `maxDelay`. Each wait is drawn between half and all of it
   * (jitter), so clients of a restarted daemon do not all come back at once.
   *
   * @default {100}
   */
  minDelay?: number;
  /**
   * The longest wait between two attempts, in milliseconds.
   *
   * @default {5000}
   */
  maxDelay?: number;
  /** Called on each change of `state`; it must not throw (what it throws is ignored). */
  onStateChange?: (event: IpcReconnectEvent) => void;
}

/** The checked `reconnect` option. */
export interface ReconnectSettings {
  retries: number;
  minDelay: number;
  maxDelay: number;
  onStateChange: ((event: IpcReconnectEvent) => void) | undefined;
}

/** Default of `reconnect.minDelay`, in milliseconds. */
const DEFAULT_RECONNECT_MIN_DELAY_MS = 100;
/** Default of `reconnect.maxDelay`, in milliseconds. */
const DEFAULT_RECONNECT_MAX_DELAY_MS = 5_000;

/** Checks `reconnect`; `true` means the defaults. */
export function reconnectSettingsOf(
  reconnect: IpcReconnectOptions | true,
): ReconnectSettings {
  const options = reconnect === true ? {} : reconnect;
  const owner = "connectIpc reconnect";
  const minDelay = durationOption(
    owner,
    "minDelay",
    options.minDelay,
    DEFAULT_RECONNECT_MIN_DELAY_MS,
  );
  const maxDelay = durationOption(
    owner,
    "maxDelay",
    options.maxDelay,
    Math.max(minDelay, DEFAULT_RECONNECT_MAX_DELAY_MS),
  );
  if (maxDelay < minDelay) {
    throw new RangeError(
      `${owner} option maxDelay (${maxDelay}) must be at least minDelay (${minDelay}).`,
    );
  }
  const onStateChange = options.onStateChange;
  if (onStateChange !== undefined && typeof onStateChange !== "function") {
    throw new TypeError(`${owner} option onStateChange must be a function.`);
  }
  return {
    retries: limitOption(owner, "retries", options.retries, Infinity),
    minDelay,
    maxDelay,
    onStateChange,
  };
}

/**
 * The wait before attempt `attempt` (1, 2, …): `minDelay · 2^(attempt-1)`
 * capped at `maxDelay`, times a random factor in [0.5, 1).
 */
export function backoffDelay(
  settings: ReconnectSettings,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(attempt - 1, 30);
  const ceiling = Math.min(
    settings.maxDelay,
    settings.minDelay * 2 ** exponent,
  );
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** One wait at a time; `cancel()` ends it early. */
export class BackoffTimer {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #keepAlive: () => boolean;

  /** @param keepAlive Whether the wait should keep the process alive now. */
  constructor(keepAlive: () => boolean) {
    this.#keepAlive = keepAlive;
  }

  /** Resolves after `ms` milliseconds, or at `cancel()`. */
  sleep(ms: number): Promise<void> {
    this.cancel();
    return new Promise((resolve) => {
      this.#wake = () => {
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#wake = undefined;
        resolve();
      };
      this.#timer = setTimeout(this.#wake, ms);
      this.update();
    });
  }

  /** Ends the wait now. */
  cancel(): void {
    this.#wake?.();
  }

  /** `keepAlive()` may have changed: ref or unref the wait. */
  update(): void {
    if (this.#timer === undefined) return;
    // With node: modules loaded, setTimeout gives a Node Timeout object.
    const timer = this.#timer as unknown as number | {
      ref(): void;
      unref(): void;
    };
    const keep = this.#keepAlive();
    if (typeof timer === "number") {
      if (keep) Deno.refTimer(timer);
      else Deno.unrefTimer(timer);
    } else if (keep) timer.ref();
    else timer.unref();
  }
}

/** The `cause` of what a drop interrupted: "connection lost; reconnecting". */
export function connectionLost(cause?: unknown): Error {
  return new Error("connection lost; reconnecting", { cause });
}

/**
 * The error of a send or call that the drop of the connection to `peer`
 * interrupted, in the place of the connection's own `error`.
 *
 * @param action `"send"`, or the call, e.g. `call "add"`.
 */
export function interruptedError(
  action: string,
  peer: string,
  error: unknown,
): IpcClosedError {
  return new IpcClosedError(
    action === "send"
      ? `A message could not be sent: the connection to ${peer} was lost first. ` +
        "The channel is reconnecting; send it again if it must arrive."
      : `The ${action} got no answer: the connection to ${peer} was lost first. ` +
        "It was not sent again (not every call is safe twice); the channel is reconnecting.",
    { cause: connectionLost(error) },
  );
}

/** Retrying cannot fix a wrong key, an unsafe setup, or a missing permission. */
export function retryable(error: Error): boolean {
  return !(
    (error instanceof IpcHandshakeError && error.reason === "authentication") ||
    error instanceof Deno.errors.NotCapable ||
    error instanceof Deno.errors.PermissionDenied ||
    error instanceof TypeError ||
    error instanceof RangeError
  );
}
