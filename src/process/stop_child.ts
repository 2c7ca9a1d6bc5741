/**
 * {@linkcode stopChild}: ending a child process for sure, in bounded steps:
 * ask it (optionally), then `SIGTERM`, then `SIGKILL`.
 *
 * @module
 */

import { settlesWithin } from "../internal/deadline.ts";
import { durationOption } from "../internal/check_option.ts";

/** How the child ended: the same shape as `Deno.CommandStatus`. */
export interface IpcChildStatus {
  /** `true` when the child exited with code 0. */
  success: boolean;
  /** The exit code, or 128 + the signal number when a signal ended it. */
  code: number;
  /** The signal that ended the child, or `null`. */
  signal: Deno.Signal | null;
}

/** How long a child gets at each step before the next, harder one. */
export const DEFAULT_KILL_TIMEOUT_MS = 5000;

/** Options of {@linkcode stopChild}. */
export interface StopChildOptions {
  /**
   * How long the child has to exit after each step (the graceful request,
   * then `SIGTERM`) before the next one, in milliseconds.
   *
   * @default {5000}
   */
  killTimeout?: number;
  /**
   * Asks the child to stop by itself before any signal: for example closes
   * its channel or sends it a cancel notification. The child then has
   * `killTimeout` ms to exit before `SIGTERM`. Without it, `SIGTERM` is sent
   * at once.
   */
  graceful?: () => unknown;
}

/**
 * Stops `child` for sure: runs `graceful` (if given) and waits up to
 * `killTimeout`; then sends `SIGTERM` and waits up to `killTimeout` again;
 * then sends `SIGKILL`, which cannot be ignored. The status it returns tells
 * which step ended the child: `signal` is `null` when it exited by itself.
 *
 * A child that has already exited is not signalled; its status is returned.
 * Each signal is sent, so a child that ignores `SIGTERM` still gets the
 * `SIGKILL`.
 *
 * @param child The child, as `spawnWithIpc()` returns it.
 * @param options `killTimeout` and the `graceful` first step.
 * @returns How the child ended.
 * @throws {RangeError} When `killTimeout` is not a positive, finite number.
 *
 * @example Give a child 1 s to handle SIGTERM, then kill it
 * ```ts ignore
 * import { spawnWithIpc, stopChild } from "@tether/ipc";
 *
 * const child = spawnWithIpc(Deno.execPath(), { args: ["run", "server.ts"] });
 * const status = await stopChild(child, { killTimeout: 1000 });
 * console.log(status.signal); // "SIGTERM", or "SIGKILL" if it ignored SIGTERM
 * ```
 */
export async function stopChild(
  child: {
    /** Resolves with how the child ended. */
    readonly status: Promise<IpcChildStatus>;
    /** Sends a signal; `false` when the child has already exited. */
    kill(signal?: Deno.Signal): boolean;
  },
  options: StopChildOptions = {},
): Promise<IpcChildStatus> {
  const killTimeout = killTimeoutOption("stopChild", options.killTimeout);
  const status = child.status;
  const graceful = options.graceful;
  if (graceful !== undefined) {
    // Not awaited beyond killTimeout: asking must not become the unbounded wait.
    Promise.resolve().then(graceful).catch(() => {
      // The child may be gone already, or its channel broken: go on.
    });
    if (await settlesWithin(status, killTimeout)) return status;
  }
  if (child.kill("SIGTERM") && !await settlesWithin(status, killTimeout)) {
    child.kill("SIGKILL");
  }
  return await status;
}

/**
 * Checks a `killTimeout` option: a positive, finite number of milliseconds
 * (a wait without end is what it exists to prevent).
 *
 * @throws {TypeError} When it is not a number.
 * @throws {RangeError} When it is not positive and finite.
 */
export function killTimeoutOption(owner: string, value: unknown): number {
  const ms = durationOption(
    owner,
    "killTimeout",
    value,
    DEFAULT_KILL_TIMEOUT_MS,
  );
  if (ms > MAX_TIMER_MS) {
    throw new RangeError(
      `${owner} option killTimeout must be finite and at most ${MAX_TIMER_MS} ms, got ${ms}.`,
    );
  }
  return ms;
}

/** The longest delay `setTimeout` honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;
