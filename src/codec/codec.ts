/**
 * The codec seam: how messages become bytes on the wire and back. Each wire
 * format is one {@linkcode Codec} in its own file, the way Node holds its
 * `"json"` and `"advanced"` IPC serializations as objects of one shape; a
 * channel picks one with {@linkcode codecFor} and never asks which again.
 *
 * @module
 */

import type {
  IpcMessageTooLargeError,
  IpcProtocolError,
} from "../channel/errors.ts";
import { advancedCodec } from "./advanced.ts";
import { jsonCodec } from "./json.ts";

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

/**
 * One encoded message, its framing included: a single piece, or a few pieces
 * to write in order. A large payload is kept apart from its framing so that
 * it is written as it is, never copied to join them.
 */
export type EncodedMessage =
  | string
  | Uint8Array
  | readonly (string | Uint8Array)[];

/** Receives each decoded message and its size (for buffer accounting). */
export type MessageSink = (message: unknown, size: number) => void;

/** The errors that stop a decoder. */
export type DecodeError = IpcProtocolError | IpcMessageTooLargeError;

/** An incremental decoder of one wire format: bytes in, messages out. */
export interface MessageDecoder {
  /** Messages delivered so far. */
  readonly messageCount: number;
  /** Bytes pushed so far. */
  readonly bytesReceived: number;
  /** Bytes of a message that is not complete yet. */
  readonly pendingBytes: number;
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
}

/** One wire format: the encoder and a decoder factory. */
export interface Codec {
  /** The format's name, as the `serialization` option gives it. */
  readonly serialization: IpcSerialization;
  /**
   * Encodes `message` with its framing.
   *
   * @param message The value to send.
   * @param maxMessageBytes The largest message allowed.
   * @returns The bytes or text to write.
   * @throws {TypeError} When the format cannot carry `message`.
   * @throws {IpcMessageTooLargeError} When it is over `maxMessageBytes`.
   */
  encode(message: unknown, maxMessageBytes: number): EncodedMessage;
  /**
   * Makes a decoder that hands each message to `sink`.
   *
   * @param sink Called with each message, in order.
   * @param maxMessageBytes The largest message accepted.
   */
  decoder(sink: MessageSink, maxMessageBytes: number): MessageDecoder;
}

/** The codec of a wire format. */
export function codecFor(serialization: IpcSerialization): Codec {
  return serialization === "advanced" ? advancedCodec : jsonCodec;
}
