/**
 * {@linkcode WaitingSends}: the messages sent while a channel reconnects,
 * waiting for the next connection, within a byte budget.
 *
 * @module
 */

import { IpcClosedError } from "../channel/errors.ts";
import type { IpcSendOptions } from "../channel/send_options.ts";
import { ArrayQueue } from "../internal/array_queue.ts";
import { connectionLost } from "./connection_lost.ts";

interface WaitingSend<Out> {
  message: Out;
  options: IpcSendOptions | undefined;
  sent: PromiseWithResolvers<void>;
}

/** How a connection takes a message. */
export type SendOn<Out> = (
  message: Out,
  options: IpcSendOptions | undefined,
) => Promise<void>;

/**
 * Sends made while reconnecting, in order. Each waits, as a promise, until
 * it is handed to the next connection; past `limitBytes` waiting (measured
 * as JSON text) a send is refused at once.
 *
 * @typeParam Out The type of the messages.
 */
export class WaitingSends<Out> {
  #queue = new ArrayQueue<WaitingSend<Out>>();
  #limitBytes: number;
  #peer: string;

  /**
   * @param limitBytes Most bytes waiting (`sendBufferBytes`).
   * @param peer The server, as messages name it.
   */
  constructor(limitBytes: number, peer: string) {
    this.#limitBytes = limitBytes;
    this.#peer = peer;
  }

  /** Sends waiting. */
  get length(): number {
    return this.#queue.length;
  }

  /**
   * Queues `message` for the next connection.
   *
   * @returns A promise resolved once the connection took it; rejected at
   *   once when the budget is spent, or later by `rejectAll()`.
   */
  push(message: Out, options: IpcSendOptions | undefined): Promise<void> {
    const size = jsonSize(message);
    const waiting = this.#queue.weight;
    if (waiting + size > this.#limitBytes && this.#queue.length > 0) {
      return Promise.reject(
        new IpcClosedError(
          `Cannot send a message while reconnecting to ${this.#peer}: ` +
            `${waiting} bytes already wait for the connection (sendBufferBytes is ${this.#limitBytes}). ` +
            "Await send() to wait for the connection instead of queueing more.",
          { cause: connectionLost() },
        ),
      );
    }
    const sent = Promise.withResolvers<void>();
    this.#queue.push({ message, options, sent }, size);
    return sent.promise;
  }

  /** Hands every waiting send to `send`, in order; each settles as it does. */
  handTo(send: SendOn<Out>): void {
    for (let waiting; (waiting = this.#queue.shift()) !== undefined;) {
      send(waiting.message, waiting.options).then(
        waiting.sent.resolve,
        waiting.sent.reject,
      );
    }
  }

  /** Rejects every waiting send with `error`. */
  rejectAll(error: Error): void {
    for (let waiting; (waiting = this.#queue.shift()) !== undefined;) {
      waiting.sent.reject(error);
    }
  }
}

/** A message's size for the budget: its JSON text's length (an estimate for `"advanced"`). */
function jsonSize(message: unknown): number {
  try {
    return JSON.stringify(message)?.length ?? 0;
  } catch {
    return 0;
  }
}
