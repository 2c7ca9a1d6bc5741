/**
 * {@linkcode AdvancedEncoder}: messages turned into `"advanced"` frames,
 * queued, and handed out as writes that join the small frames queued
 * meanwhile.
 *
 * @module
 */

import { ArrayQueue } from "../internal/array_queue.ts";
import { encodeAdvancedMessage } from "./advanced_frame.ts";
import {
  JOIN_LIMIT_BYTES,
  type MessageEncoder,
  type QueuedWrite,
} from "./codec.ts";

/** The encoder of Node's length-prefixed V8 frames. */
export class AdvancedEncoder implements MessageEncoder {
  /** The pieces of the frames, each weighing its length. */
  #pieces = new ArrayQueue<Uint8Array>();
  #maxMessageBytes: number;

  /** @param maxMessageBytes The largest payload allowed, in bytes. */
  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  get size(): number {
    return this.#pieces.weight;
  }

  get length(): number {
    return this.#pieces.length;
  }

  push(message: unknown): void {
    for (const piece of encodeAdvancedMessage(message, this.#maxMessageBytes)) {
      this.#pieces.push(piece, piece.length);
    }
  }

  /**
   * The first piece and as many after it as fit in 1 MiB together, copied
   * into one array; a piece alone (a large typed array's own bytes) is
   * written as it is, without a copy.
   */
  take(): QueuedWrite | undefined {
    const pieces = this.#pieces;
    const first = pieces.peek();
    if (first === undefined) return undefined;
    let count = 1;
    let size = first.length;
    for (let next = pieces.at(1); next !== undefined; next = pieces.at(count)) {
      if (size + next.length > JOIN_LIMIT_BYTES) break;
      size += next.length;
      count++;
    }
    if (count === 1) return { data: pieces.shift()!, size };
    const data = new Uint8Array(size);
    let at = 0;
    for (const piece of pieces.shiftMany(count)) {
      data.set(piece, at);
      at += piece.length;
    }
    return { data, size };
  }

  clear(): void {
    this.#pieces.clear();
  }
}
