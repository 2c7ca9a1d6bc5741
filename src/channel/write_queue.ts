/**
 * {@linkcode WriteQueue}: the messages a channel has encoded but not yet
 * written, cut into writes. This is the one place where writes are
 * coalesced.
 *
 * The channel keeps one write in flight and queues the rest here; when the
 * write completes, everything queued meanwhile goes out in the next one.
 * Handing the socket several writes at once made it gather them into one new
 * buffer (see `bench/optimizations.md`).
 *
 * @module
 */

import type { EncodedMessage } from "../codec/codec.ts";
import { ArrayQueue } from "../internal/array_queue.ts";

/** The largest write made by joining several pieces. */
const JOIN_LIMIT_BYTES = 1024 * 1024;
/**
 * A text longer than twice this is written in slices of this many UTF-16
 * units, one after the other, rather than encoded whole: the peer starts
 * reading after the first slice, and the encoder's buffers stay small enough
 * to be reused. The last slice takes what is left, up to twice this, so a
 * text a little over 1 MiB is not followed by a tiny second write.
 */
const TEXT_SLICE = 1024 * 1024;

/** One write: the bytes or text, and its size for the buffer accounting. */
export interface QueuedWrite {
  /** What to write: text (written as UTF-8) or bytes. */
  data: string | Uint8Array;
  /** Its size in bytes (UTF-16 units for text). */
  size: number;
}

/** A queue of encoded pieces (text or bytes), taken out as writes. */
export class WriteQueue {
  #pieces = new ArrayQueue<string | Uint8Array>();
  #size = 0;
  /** How much of the first text was already taken, in slices. */
  #textOffset = 0;

  /** Bytes queued (UTF-16 units for text). */
  get size(): number {
    return this.#size;
  }

  /** Pieces queued. */
  get length(): number {
    return this.#pieces.length;
  }

  /** Queues one encoded message. */
  push(message: EncodedMessage): void {
    if (typeof message === "string" || message instanceof Uint8Array) {
      this.#pieces.push(message);
      this.#size += message.length;
      return;
    }
    for (const piece of message as readonly (string | Uint8Array)[]) {
      this.#pieces.push(piece);
      this.#size += piece.length;
    }
  }

  /**
   * Removes and returns the next write: the first piece and as many of the
   * same kind after it as fit in 1 MiB together (texts joined, small byte
   * pieces copied into one array), or the next slice of a long text. A large
   * byte piece is returned as it is, without a copy.
   *
   * @returns The write, or `undefined` when the queue is empty.
   */
  take(): QueuedWrite | undefined {
    const pieces = this.#pieces;
    const first = pieces.peek();
    if (first === undefined) return undefined;
    const text = typeof first === "string";
    if (text && first.length - this.#textOffset > 2 * TEXT_SLICE) {
      return this.#takeSlice(first);
    }
    let count = 1;
    let size = first.length - this.#textOffset;
    for (let next = pieces.at(1); next !== undefined; next = pieces.at(count)) {
      if (typeof next === "string" !== text) break;
      if (size + next.length > JOIN_LIMIT_BYTES) break;
      size += next.length;
      count++;
    }
    let data: string | Uint8Array;
    if (count === 1) {
      data = pieces.shift()!;
      if (this.#textOffset > 0) data = (data as string).slice(this.#textOffset);
    } else if (text) {
      const texts: string[] = [];
      for (let i = 0; i < count; i++) texts.push(pieces.shift() as string);
      if (this.#textOffset > 0) texts[0] = texts[0].slice(this.#textOffset);
      data = texts.join("");
    } else {
      const joined = new Uint8Array(size);
      for (let at = 0, i = 0; i < count; i++) {
        const piece = pieces.shift() as Uint8Array;
        joined.set(piece, at);
        at += piece.length;
      }
      data = joined;
    }
    this.#textOffset = 0;
    this.#size -= size;
    return { data, size };
  }

  /** The next slice of a long text; never splits a surrogate pair. */
  #takeSlice(text: string): QueuedWrite {
    const from = this.#textOffset;
    let to = from + TEXT_SLICE;
    const last = text.charCodeAt(to - 1);
    if (last >= 0xd800 && last <= 0xdbff) to--;
    this.#textOffset = to;
    this.#size -= to - from;
    return { data: text.slice(from, to), size: to - from };
  }

  /** Removes and returns everything queued, in writes, for a last flush. */
  takeAll(): QueuedWrite[] {
    const writes: QueuedWrite[] = [];
    for (let write = this.take(); write !== undefined; write = this.take()) {
      writes.push(write);
    }
    return writes;
  }

  /** Drops everything queued. */
  clear(): void {
    this.#pieces.clear();
    this.#size = 0;
    this.#textOffset = 0;
  }
}
