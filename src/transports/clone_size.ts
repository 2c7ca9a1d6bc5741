/**
 * {@linkcode cloneSize}: what a message sent by `postMessage` (the structured
 * clone algorithm) weighs, checked before it is queued.
 *
 * @module
 */

import { tooLargeToSend } from "../errors.ts";

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
  // Most messages are a few small objects: a list is cheaper than a Set.
  const seen: object[] = [];
  let seenSet: Set<object> | undefined;
  let size = 0;
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
        if (seenSet !== undefined) {
          if (seenSet.has(value)) break;
          seenSet.add(value);
        } else if (seen.includes(value)) {
          break;
        } else if (seen.push(value) > 32) {
          seenSet = new Set(seen);
        }
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

/**
 * The bytes of `value` itself and of the text and numbers it holds directly;
 * the objects it holds go on `pending`.
 */
function objectSize(value: object, pending: unknown[]): number {
  if (Array.isArray(value)) {
    let size = 0;
    for (let i = 0; i < value.length; i++) {
      size += SLOT_BYTES + leafSize(value[i], pending);
    }
    return size;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) {
    return fieldsSize(value, pending);
  }
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
  return fieldsSize(value, pending);
}

/** The keys of an object and its text and numbers; its objects go on `pending`. */
function fieldsSize(value: object, pending: unknown[]): number {
  let size = 0;
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    size += SLOT_BYTES + leafSize(fields[key], pending);
  }
  return size;
}

/**
 * The size of a string, number, boolean, `undefined` or `bigint` held by an
 * object (without walking back through the loop); anything else goes on
 * `pending` and counts 0 here.
 */
function leafSize(item: unknown, pending: unknown[]): number {
  switch (typeof item) {
    case "string":
      return SLOT_BYTES + 2 * item.length;
    case "number":
    case "boolean":
    case "undefined":
    case "bigint":
      return SLOT_BYTES;
    default:
      pending.push(item);
      return 0;
  }
}
