/**
 * {@linkcode MessageBatcher}: the encoder of a transport of whole messages,
 * which carries values as they are. It only checks and measures each message
 * (through the transport), and hands out everything queued as one batch.
 *
 * @module
 */

import type { MessageEncoder, QueuedWrite } from "../codec/codec.ts";
import { ArrayQueue } from "../internal/array_queue.ts";
import type { IpcMessageTransport } from "../transports/transport.ts";

/** Messages for a message transport, each weighing its measured size. */
export class MessageBatcher implements MessageEncoder<unknown[]> {
  #messages = new ArrayQueue<unknown>();
  #transport: IpcMessageTransport;
  #maxMessageBytes: number;

  /**
   * @param transport How messages are checked and measured.
   * @param maxMessageBytes The largest message allowed.
   */
  constructor(transport: IpcMessageTransport, maxMessageBytes: number) {
    this.#transport = transport;
    this.#maxMessageBytes = maxMessageBytes;
  }

  get size(): number {
    return this.#messages.weight;
  }

  get length(): number {
    return this.#messages.length;
  }

  push(message: unknown): void {
    const size = this.#transport.measure(message, this.#maxMessageBytes);
    this.#messages.push(message, size);
  }

  take(): QueuedWrite<unknown[]> | undefined {
    const messages = this.#messages;
    if (messages.length === 0) return undefined;
    const size = messages.weight;
    return { data: messages.shiftMany(messages.length), size };
  }

  clear(): void {
    this.#messages.clear();
  }
}
