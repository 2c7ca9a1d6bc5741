/**
 * What a reconnecting channel says about a dropped connection, and which
 * failures to connect are worth retrying.
 *
 * @module
 */

import { IpcClosedError } from "../channel/errors.ts";
import { IpcAuthenticationError, IpcInsecureSetupError } from "./errors.ts";

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
    error instanceof IpcAuthenticationError ||
    error instanceof IpcInsecureSetupError ||
    error instanceof Deno.errors.NotCapable ||
    error instanceof Deno.errors.PermissionDenied ||
    error instanceof TypeError ||
    error instanceof RangeError
  );
}
