/**
 * Where sent messages wait to be written, in the form the transport takes:
 * encoded bytes for a byte transport, the values themselves for a message
 * transport. The channel picks one when it is made and never asks which
 * again.
 *
 * @module
 */

import type { Codec } from "../codec/codec.ts";
import { ArrayQueue } from "../internal/array_queue.ts";
import type {
  IpcMessageTransport,
  IpcTransport,
} from "../transports/transport.ts";
import { WriteQueue } from "./write_queue.ts";

/** Messages taken out of an {@linkcode Outbox} to be written together. */
export interface OutboxBatch {
  /** Their size in bytes (UTF-16 units for text). */
  readonly size: number;
  /**
   * Hands the batch to the transport.
   *
   * @param done Called when it is written, or with the error that stopped it.
   */
  write(done: (error?: Error) => void): void;
}

/** Messages sent and not yet written, taken out in batches. */
export interface Outbox {
  /** Bytes queued. */
  readonly size: number;
  /** Pieces or messages queued. */
  readonly length: number;
  /**
   * Encodes (or checks) one message and queues it.
   *
   * @throws {TypeError} When the message cannot be sent.
   * @throws {IpcMessageTooLargeError} When it is over the size limit.
   */
  push(message: unknown): void;
  /**
   * Takes the next batch out of the queue.
   *
   * @returns The batch, or `undefined` when nothing is queued.
   */
  take(): OutboxBatch | undefined;
  /** Drops everything queued. */
  clear(): void;
}

/** The outbox of a byte transport: messages encoded with `codec`. */
export function byteOutbox(
  transport: IpcTransport,
  codec: Codec,
  maxMessageBytes: number,
): Outbox {
  const queue = new WriteQueue();
  return {
    get size() {
      return queue.size;
    },
    get length() {
      return queue.length;
    },
    push: (message) => queue.push(codec.encode(message, maxMessageBytes)),
    take() {
      const write = queue.take();
      if (write === undefined) return undefined;
      return {
        size: write.size,
        write: (done) => transport.write(write.data, done),
      };
    },
    clear: () => queue.clear(),
  };
}

/** The outbox of a message transport: the messages themselves. */
export function messageOutbox(
  transport: IpcMessageTransport,
  maxMessageBytes: number,
): Outbox {
  const messages = new ArrayQueue<unknown>();
  const sizes = new ArrayQueue<number>();
  let size = 0;
  return {
    get size() {
      return size;
    },
    get length() {
      return messages.length;
    },
    push(message) {
      const bytes = transport.measure(message, maxMessageBytes);
      messages.push(message);
      sizes.push(bytes);
      size += bytes;
    },
    take() {
      if (messages.length === 0) return undefined;
      const batch: unknown[] = [];
      let batchSize = 0;
      while (messages.length > 0) {
        batch.push(messages.shift());
        batchSize += sizes.shift()!;
      }
      size -= batchSize;
      return {
        size: batchSize,
        write: (done) => transport.write(batch, done),
      };
    },
    clear() {
      messages.clear();
      sizes.clear();
      size = 0;
    },
  };
}
