/**
 * The check of each received message before the iterator gets it: dropping
 * Node's internal messages (`nodeCompat`) and validation (`validate`).
 *
 * @module
 */

import { IpcValidationError } from "./errors.ts";
import type { IpcJsonStreamOptions } from "./options.ts";
import { compileValidator } from "./validation.ts";

/** What the filter returns for a message not to deliver. */
export const SKIP: unique symbol = Symbol("skip");

/**
 * Checks one received message.
 *
 * @param message The message.
 * @param index Its position among the messages received, from 0.
 * @returns The value to deliver, or {@linkcode SKIP}.
 * @throws {Error} The error to deliver in the message's place.
 */
export type IncomingFilter = (message: unknown, index: number) => unknown;

/**
 * The filter the options ask for; `undefined` when there is nothing to
 * check, so that the receiving path pays nothing.
 */
export function incomingFilter<In>(
  options: IpcJsonStreamOptions<In>,
): IncomingFilter | undefined {
  const dropNodeInternal = options.nodeCompat === true;
  const validate = options.validate === undefined
    ? undefined
    : compileValidator(options.validate);
  if (!dropNodeInternal && validate === undefined) return undefined;
  const onInvalid = options.onInvalidMessage ?? "throw";
  return (message, index) => {
    if (dropNodeInternal && isNodeInternalMessage(message)) return SKIP;
    if (validate === undefined) return message;
    try {
      return validate(message, index);
    } catch (error) {
      if (onInvalid === "throw" || !(error instanceof IpcValidationError)) {
        throw error;
      }
      onInvalid(error);
      return SKIP;
    }
  };
}

/** Node's own IPC messages, such as `{ cmd: "NODE_HANDLE_ACK" }`. */
function isNodeInternalMessage(message: unknown): boolean {
  if (typeof message !== "object" || message === null) return false;
  const cmd = (message as { cmd?: unknown }).cmd;
  return typeof cmd === "string" && cmd.startsWith("NODE_");
}
