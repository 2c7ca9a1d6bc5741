/**
 * Turning whatever was thrown into a message or an `Error`.
 *
 * @module
 */

/** The message of a thrown value: an `Error`'s message, or the value as text. */
export function messageOf(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}

/** A thrown value as an `Error`: itself when it is one. */
export function toError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}
