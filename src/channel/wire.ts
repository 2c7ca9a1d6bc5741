/**
 * {@linkcode Wire}: where a channel meets its transport. A byte transport
 * gets the codec's decoder on its input and an encoder that keeps the messages to send;
 * a message transport gets the messages as they are, gathered into batches
 * ({@linkcode MessageBatcher}). This is the one place
 * that tells the two kinds apart; the channel never asks again.
 *
 * @module
 */

import type {
  DecodeError,
  MessageDecoder,
  MessageEncoder,
  QueuedWrite,
} from "../codec/codec.ts";
import type {
  IpcMessageTransport,
  IpcTransport,
} from "../transports/transport.ts";
import type { StreamSettings } from "./options.ts";
import { type Sender, SendQueue, type SendQueueEvents } from "./send_queue.ts";
import { ArrayQueue } from "../internal/array_queue.ts";

/** Whether the channel takes more input: its receive queue. */
export interface WireInput {
  /** `true` once nothing more is to be received. */
  readonly ended: boolean;
  /** `true` when reading must pause (the receive queue is full). */
  readonly full: boolean;
}

/** What the channel does with what its transport delivers. */
export interface WireReceiver {
  /** A message arrived, with its size (called as a plain function). */
  readonly receive: (message: unknown, size: number) => void;
  /** The input is not a valid message: the channel fails. */
  badInput(error: DecodeError): void;
  /** The peer closed its end; `reason` says why when known. */
  end(reason?: Error): void;
  /** The transport failed. */
  broken(error: Error): void;
}

/** A transport, started, with the channel's encoding on top. */
export class Wire {
  /** Schedules the writes of sent messages, in the transport's form. */
  readonly sender: Sender;
  #decoder: MessageDecoder | undefined;
  #bytesIn = 0;

  /**
   * Starts `transport`, reporting to `receiver`.
   *
   * @param transport The transport, not started yet.
   * @param settings The channel's checked options.
   * @param input Whether the channel takes more input.
   * @param receiver What to tell the channel.
   * @param sent What the send queue tells the channel.
   */
  constructor(
    transport: IpcTransport | IpcMessageTransport,
    settings: StreamSettings,
    input: WireInput,
    receiver: WireReceiver,
    sent: SendQueueEvents,
  ) {
    const end = (reason?: Error) => receiver.end(reason);
    const error = (error: Error) => receiver.broken(error);
    if (transport.carriesMessages === true) {
      this.sender = new SendQueue(
        new MessageBatcher(transport, settings.maxMessageBytes),
        (batch, done) => transport.write(batch, done),
        settings.sendBufferBytes,
        sent,
      );
      transport.start({
        message: (message, size) => {
          if (input.ended) return false;
          this.#bytesIn += size;
          receiver.receive(message, size);
          return !input.full;
        },
        end,
        error,
        badInput: (failure) => receiver.badInput(failure),
      });
      return;
    }
    const decoder = settings.codec.decoder(
      receiver.receive,
      settings.maxMessageBytes,
    );
    this.#decoder = decoder;
    this.sender = new SendQueue(
      settings.codec.encoder(settings.maxMessageBytes),
      (data, done) => transport.write(data, done),
      settings.sendBufferBytes,
      sent,
      transport.writeAtExit?.bind(transport),
    );
    transport.start({
      data: (bytes) => {
        if (input.ended) return false;
        const failure = decoder.push(bytes);
        if (failure !== undefined) {
          receiver.badInput(failure);
          return false;
        }
        return !input.full;
      },
      end,
      error,
    });
  }

  /** Bytes received (as the transport counts them for whole messages). */
  get bytesIn(): number {
    return this.#decoder?.bytesReceived ?? this.#bytesIn;
  }

  /**
   * Hands the heartbeat's control signals to `listener` (see
   * `MessageDecoder.onControl`); `false` on a message transport, which has none.
   */
  listenControl(listener: (signal: number) => void): boolean {
    if (this.#decoder === undefined) return false;
    this.#decoder.onControl = listener;
    return true;
  }

  /**
   * The input ended.
   *
   * @returns The error when it stopped in the middle of a message.
   */
  endInput(): DecodeError | undefined {
    return this.#decoder?.end();
  }
}

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
