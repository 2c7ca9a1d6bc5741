/**
 * The shape every wire format shares: {@linkcode Codec} (an encoder and a
 * decoder factory), the serialization names and the join limit. Each format
 * lives whole in its own file (`json.ts`, `advanced.ts`) and imports this one;
 * the channel's options pick a codec by name, so this file imports neither
 * format and no cycle forms.
 *
 * @module
 */

import type { IpcMessageTooLargeError, IpcProtocolError } from "../errors.ts";

/**
 * How messages are written on the wire: `"json"` (newline-delimited JSON) or
 * `"advanced"` (Node's length-prefixed V8 serialization).
 *
 * @example
 * ```ts
 * import type { IpcSerialization } from "@tether/ipc";
 *
 * const binaryFriendly: IpcSerialization = "advanced";
 * ```
 */
export type IpcSerialization = "json" | "advanced";

/** The largest write an encoder makes by joining several messages. */
export const JOIN_LIMIT_BYTES = 1024 * 1024;

/**
 * One write: text (written as UTF-8) or bytes, and its size.
 *
 * @typeParam D What is written: text or bytes for a byte transport.
 */
export interface QueuedWrite<D = string | Uint8Array> {
  /** What to write. */
  data: D;
  /** Its size in bytes (UTF-16 units for text). */
  size: number;
}

/**
 * The sending half of a wire format: messages in, writes out. It encodes
 * each message with its framing as it is pushed, and hands out writes that
 * join what was queued meanwhile (up to {@linkcode JOIN_LIMIT_BYTES}).
 *
 * @typeParam D What a write holds.
 */
export interface MessageEncoder<D = string | Uint8Array> {
  /** Bytes queued (UTF-16 units for text). */
  readonly size: number;
  /** Messages (or pieces of them) queued. */
  readonly length: number;
  /**
   * Encodes `message` and queues it.
   *
   * @throws {TypeError} When the format cannot carry `message`.
   * @throws {IpcMessageTooLargeError} When it is over the size limit.
   */
  push(message: unknown): void;
  /**
   * Queues a heartbeat signal (`docs/protocol.md#the-heartbeat`) after the
   * messages queued so far; formats without signals leave it out.
   */
  pushSignal?(signal: number): void;
  /**
   * Removes the next write from the queue.
   *
   * @returns The write, or `undefined` when nothing is queued.
   */
  take(): QueuedWrite<D> | undefined;
  /** Drops everything queued. */
  clear(): void;
}

/** Receives each decoded message and its size (for buffer accounting). */
export type MessageSink = (message: unknown, size: number) => void;

/** The errors that stop a decoder. */
export type DecodeError = IpcProtocolError | IpcMessageTooLargeError;

/** An incremental decoder of one wire format: bytes in, messages out. */
export interface MessageDecoder {
  /** Bytes pushed so far. */
  readonly bytesReceived: number;
  /**
   * Decodes one chunk, delivering each complete message to the sink.
   *
   * @param chunk The bytes; only read during the call.
   * @returns The error that stopped the decoder, if any.
   */
  push(chunk: Uint8Array): DecodeError | undefined;
  /**
   * Marks the end of the input.
   *
   * @returns An error when the input stopped in the middle of a message, or
   *   the error that stopped the decoder earlier.
   */
  end(): DecodeError | undefined;
  /**
   * When set, gets the signals of the network heartbeat (numbered 1 to 8:
   * `docs/protocol.md#the-heartbeat`) instead of treating them as the blank
   * lines or oversized frames they look like to a peer that does not know
   * them.
   */
  onControl?: (signal: number) => void;
}

/** One wire format: an encoder and a decoder factory. */
export interface Codec {
  /** The format's name, as the `serialization` option gives it. */
  readonly serialization: IpcSerialization;
  /**
   * Makes an encoder that refuses messages over `maxMessageBytes`.
   *
   * @param maxMessageBytes The largest message allowed.
   */
  encoder(maxMessageBytes: number): MessageEncoder;
  /**
   * Makes a decoder that hands each message to `sink`.
   *
   * @param sink Called with each message, in order.
   * @param maxMessageBytes The largest message accepted.
   */
  decoder(sink: MessageSink, maxMessageBytes: number): MessageDecoder;
}
