/**
 * {@linkcode checkCallStart}: the checks every kind of call makes before it
 * starts (the call layer, a pool, NATS).
 *
 * @module
 */

import { durationOption } from "../internal/check_option.ts";

/**
 * Checks that a call may start: its `timeout` is `undefined`, `Infinity` or
 * a positive number of milliseconds, and its `signal` has not aborted.
 *
 * @throws {TypeError} When `timeout` is not a number.
 * @throws {RangeError} When `timeout` is not positive.
 * @throws {unknown} The signal's `reason` when it has aborted.
 *
 * @example
 * ```ts
 * import { checkCallStart } from "./check_call_start.ts";
 *
 * checkCallStart(1000, undefined); // fine
 * try {
 *   checkCallStart(-1, undefined);
 * } catch (error) {
 *   console.log(error instanceof RangeError); // true
 * }
 * ```
 */
export function checkCallStart(
  timeout: unknown,
  signal: AbortSignal | undefined,
): void {
  durationOption("The call", "timeout", timeout);
  signal?.throwIfAborted();
}
