/**
 * The messages a stream has serialized but not yet written, cut into writes.
 *
 * The stream keeps one write in flight at a time and queues the rest here;
 * when the write completes, everything queued meanwhile goes out in the next
 * one. Handing `net.Socket` several writes at once made it gather them
 * (`writev`) into one new buffer: measured with 1 MiB messages on Deno 2.9.6,
 * letting 16 MiB of writes queue in the socket cut throughput from ~650 to
 * ~240 MB/s, while one write at a time costs nothing (the kernel's socket
 * buffer is ~200 KiB, so a write rarely completes at once anyway).
 *
 * @module
 */

/** The largest write made by joining several messages. */
const JOIN_LIMIT_BYTES = 1024 * 1024;
/**
 * A JSON text longer than twice this is written in slices of this many UTF-16
 * units, one after the other, rather than encoded whole: the peer starts
 * reading after the first slice instead of after the whole message is
 * encoded, and the encoder's buffers stay small enough to be reused. The last
 * slice takes what is left, up to twice this, so a text a little over 1 MiB
 * is not followed by a tiny second write.
 */
const TEXT_SLICE = 1024 * 1024;

/** Drop the written items from the array once this many sit at its head. */
const COMPACT_AT = 4096;

/** One write: the bytes or text, and its size for the buffer accounting. */
export interface QueuedWrite {
  /** What to write: JSON lines, or frame bytes. */
  data: string | Uint8Array;
  /** Its size in bytes (UTF-16 units for text). */
  size: number;
}

/** A queue of JSON texts (each written with a newline after it) or frame pieces. */
export class WriteQueue {
  #items: (string | Uint8Array)[] = [];
  #head = 0;
  #size = 0;
  /** How much of the first text was already taken, in slices. */
  #textOffset = 0;

  /** Bytes queued (UTF-16 units for text). */
  get size(): number {
    return this.#size;
  }

  /** Items queued: JSON texts or frame pieces. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Queues a JSON text; its newline is added when it is written. */
  pushText(json: string): void {
    this.#items.push(json);
    this.#size += json.length + 1;
  }

  /** Queues the pieces of a binary frame. */
  pushBytes(pieces: Uint8Array[]): void {
    for (const piece of pieces) {
      this.#items.push(piece);
      this.#size += piece.length;
    }
  }

  /**
   * Removes and returns the next write: the first item and as many of the
   * same kind after it as fit in 1 MiB together, JSON texts joined into
   * lines, small pieces joined into one array. A large piece is returned as
   * it is, without a copy.
   *
   * @returns The write, or `undefined` when the queue is empty.
   */
  take(): QueuedWrite | undefined {
    const items = this.#items;
    const start = this.#head;
    if (start === items.length) return undefined;
    const first = items[start];
    if (
      typeof first === "string" &&
      first.length - this.#textOffset > 2 * TEXT_SLICE
    ) {
      return this.#takeSlice(first);
    }
    const text = typeof first === "string";
    let end = start;
    let size = 0;
    if (text && this.#textOffset > 0) {
      // The last slice of a long text.
      end = start + 1;
      size = first.length - this.#textOffset + 1;
    } else {
      while (end < items.length && typeof items[end] === "string" === text) {
        const itemSize = text
          ? (items[end] as string).length + 1
          : (items[end] as Uint8Array).length;
        if (end > start && size + itemSize > JOIN_LIMIT_BYTES) break;
        size += itemSize;
        end++;
      }
    }
    let data: string | Uint8Array;
    if (text) {
      data = end - start === 1
        ? (this.#textOffset > 0 ? first.slice(this.#textOffset) : first) + "\n"
        : (items.slice(start, end) as string[]).join("\n") + "\n";
      this.#textOffset = 0;
    } else if (end - start === 1) {
      data = first;
    } else {
      const joined = new Uint8Array(size);
      let at = 0;
      for (let i = start; i < end; i++) {
        joined.set(items[i] as Uint8Array, at);
        at += (items[i] as Uint8Array).length;
      }
      data = joined;
    }
    this.#size -= size;
    if (end === items.length) {
      items.length = 0;
      this.#head = 0;
    } else if (end >= COMPACT_AT) {
      items.splice(0, end);
      this.#head = 0;
    } else {
      for (let i = start; i < end; i++) items[i] = "";
      this.#head = end;
    }
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
    this.#items.length = 0;
    this.#head = 0;
    this.#size = 0;
    this.#textOffset = 0;
  }
}
