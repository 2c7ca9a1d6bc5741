/**
 * {@linkcode cloneSize}: what a message sent by `postMessage` (the structured
 * clone algorithm) weighs, checked before it is queued.
 *
 * @module
 */

import { tooLargeToSend } from "../channel/errors.ts";

/** What a value with no payload of its own (a number, `null`, a key) counts. */
const SLOT_BYTES = 8;

/** Objects the structured clone algorithm refuses, by constructor. */
const UNCLONEABLE = [Promise, WeakMap, WeakSet, WeakRef];

/**
 * Estimates the bytes `message` takes in a structured clone, and refuses
 * what `postMessage` could not clone. Binary data counts its `byteLength`,
 * text two bytes a character, every other value or key 8 bytes; a value
 * reached twice counts once, as the clone keeps it once.
 *
 * @param message The message.
 * @param maxMessageBytes The largest message allowed.
 * @returns The estimate, in bytes.
 * @throws {TypeError} For a function, a symbol, a promise or a weak
 *   collection anywhere in the message.
 * @throws {IpcMessageTooLargeError} When the estimate is over `maxMessageBytes`.
 */
export function cloneSize(message: unknown, maxMessageBytes: number): number {
  let size = 0;
  let seen: Set<object> | undefined;
  const pending: unknown[] = [message];
  while (pending.length > 0) {
    const value = pending.pop();
    switch (typeof value) {
      case "string":
        size += 2 * value.length;
        break;
      case "function":
      case "symbol":
        throw new TypeError(
          `Cannot send a ${typeof value} to a worker: postMessage() cannot clone it.`,
        );
      case "object": {
        size += SLOT_BYTES;
        if (value === null) break;
        seen ??= new Set();
        if (seen.has(value)) break;
        seen.add(value);
        size += objectSize(value, pending);
        break;
      }
      default:
        size += SLOT_BYTES;
    }
    if (size > maxMessageBytes) throw tooLargeToSend(size, maxMessageBytes);
  }
  return size;
}

/** The bytes of `value` itself; what it holds goes on `pending`. */
function objectSize(value: object, pending: unknown[]): number {
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (value instanceof Date || value instanceof RegExp) return SLOT_BYTES;
  for (const kind of UNCLONEABLE) {
    if (value instanceof kind) {
      throw new TypeError(
        `Cannot send a ${kind.name} to a worker: postMessage() cannot clone it.`,
      );
    }
  }
  if (value instanceof Map) {
    for (const [key, item] of value) pending.push(key, item);
    return 0;
  }
  if (value instanceof Set) {
    for (const item of value) pending.push(item);
    return 0;
  }
  let size = 0;
  for (const key of Object.keys(value)) {
    size += SLOT_BYTES;
    pending.push((value as Record<string, unknown>)[key]);
  }
  return size;
}
