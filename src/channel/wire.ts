/**
 * {@linkcode Wire}: where a channel meets its transport. A byte transport
 * gets the codec's decoder on its input and an outbox of encoded messages;
 * a message transport gets the messages as they are. This is the one place
 * that tells the two kinds apart; the channel never asks again.
 *
 * @module
 */

import type { DecodeError, MessageDecoder } from "../codec/codec.ts";
import type {
  IpcMessageTransport,
  IpcTransport,
} from "../transports/transport.ts";
import type { StreamSettings } from "./options.ts";
import { byteOutbox, messageOutbox, type Outbox } from "./outbox.ts";

/** Whether the channel takes more input: its receive queue. */
export interface WireInput {
  /** `true` once nothing more is to be received. */
  readonly ended: boolean;
  /** `true` when reading must pause (the receive queue is full). */
  readonly full: boolean;
}

/** What the channel does with what its transport delivers. */
export interface WireReceiver {
  /** A message arrived, with its size. */
  receive(message: unknown, size: number): void;
  /** The input is not a valid message: the channel fails. */
  badInput(error: DecodeError): void;
  /** The peer closed its end. */
  end(): void;
  /** The transport failed. */
  broken(error: Error): void;
}

/** A transport, started, with the channel's encoding on top. */
export class Wire {
  /** Where sent messages wait, in the transport's form. */
  readonly outbox: Outbox;
  #decoder: MessageDecoder | undefined;
  #bytesIn = 0;

  /**
   * Starts `transport`, reporting to `receiver`.
   *
   * @param transport The transport, not started yet.
   * @param settings The channel's checked options.
   * @param input Whether the channel takes more input.
   * @param receiver What to tell the channel.
   */
  constructor(
    transport: IpcTransport | IpcMessageTransport,
    settings: StreamSettings,
    input: WireInput,
    receiver: WireReceiver,
  ) {
    const end = () => receiver.end();
    const error = (error: Error) => receiver.broken(error);
    if (transport.carriesMessages === true) {
      this.outbox = messageOutbox(transport, settings.maxMessageBytes);
      transport.start({
        message: (message, size) => {
          if (input.ended) return false;
          this.#bytesIn += size;
          receiver.receive(message, size);
          return !input.full;
        },
        end,
        error,
      });
      return;
    }
    const decoder = settings.codec.decoder(
      (message, size) => receiver.receive(message, size),
      settings.maxMessageBytes,
    );
    this.#decoder = decoder;
    this.outbox = byteOutbox(
      transport,
      settings.codec,
      settings.maxMessageBytes,
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
   * The input ended.
   *
   * @returns The error when it stopped in the middle of a message.
   */
  endInput(): DecodeError | undefined {
    return this.#decoder?.end();
  }
}
