/**
 * {@linkcode BatchChecker}: what a {@linkcode WorkerPortTransport} does with
 * each received batch before delivering it: checks its shape and, on the
 * parent's side, measures each message itself.
 *
 * @module
 */

import { IpcMessageTooLargeError, IpcProtocolError } from "../errors.ts";
import { cloneSize } from "./clone_size.ts";

/** A batch received, delivered up to `next`. */
export interface IncomingBatch {
  messages: unknown[];
  sizes: number[];
  next: number;
  /** What was wrong with the rest of the batch, reported after its messages. */
  error?: IpcProtocolError | IpcMessageTooLargeError;
}

/** Checks received batches, counting what arrived for the errors' positions. */
export class BatchChecker {
  #limit: number | undefined;
  #arrived = 0;
  #arrivedBytes = 0;

  /** Bytes of the messages received so far. */
  get bytes(): number {
    return this.#arrivedBytes;
  }

  /** @param limit Measure each message, refusing those over this; else trust the sizes sent. */
  constructor(limit: number | undefined) {
    this.#limit = limit;
  }

  /**
   * A received batch, checked: its messages up to the first bad one, and
   * what was wrong with it. The parent's side measures each message itself.
   */
  check(data: unknown): IncomingBatch {
    const { messages, sizes } = data as { messages?: unknown; sizes?: unknown };
    if (!Array.isArray(messages)) {
      return this.malformed("a batch with no messages", data);
    }
    const limit = this.#limit;
    if (limit === undefined) {
      if (
        !Array.isArray(sizes) || sizes.length !== messages.length ||
        !sizes.every((size) => typeof size === "number" && size >= 0)
      ) {
        return this.malformed("a batch without a size for each message", data);
      }
      this.#arrived += messages.length;
      for (const size of sizes) this.#arrivedBytes += size;
      return { messages, sizes, next: 0 };
    }
    const measured: number[] = [];
    for (const message of messages) {
      let size: number;
      try {
        size = cloneSize(message, limit);
      } catch (error) {
        const over = error instanceof IpcMessageTooLargeError
          ? new IpcMessageTooLargeError(
            `The worker sent a message of ${error.size} bytes or more (estimated), over maxMessageBytes ` +
              `(${limit}): the channel stops reading. Raise maxMessageBytes, or send less at once.`,
            error.size,
            limit,
          )
          : new IpcProtocolError(
            `The worker sent a message that cannot be measured: ${
              (error as Error).message
            }`,
            this.#position(message),
          );
        return {
          messages: messages.slice(0, measured.length),
          sizes: measured,
          next: 0,
          error: over,
        };
      }
      measured.push(size);
      this.#arrived++;
      this.#arrivedBytes += size;
    }
    return { messages, sizes: measured, next: 0 };
  }

  /** An entry that only reports a malformed envelope. */
  malformed(what: string, data: unknown): IncomingBatch {
    const error = new IpcProtocolError(
      `The peer sent ${what}: not the worker channel's protocol. The channel stops reading.`,
      this.#position(data),
    );
    return { messages: [], sizes: [], next: 0, error };
  }

  /** Where the bad input is, for an {@linkcode IpcProtocolError}. */
  #position(data: unknown) {
    let excerpt: string;
    try {
      excerpt = String(JSON.stringify(data)).slice(0, 40);
    } catch {
      excerpt = String(data).slice(0, 40);
    }
    return {
      messageIndex: this.#arrived,
      byteOffset: this.#arrivedBytes,
      excerpt,
      truncated: false,
    };
  }
}
