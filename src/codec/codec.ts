/**
 * What the stream needs of a decoder, whatever the serialization: bytes in,
 * messages out, one error at the first bad input.
 *
 * @module
 */

import type { IpcMessageTooLargeError, IpcProtocolError } from "./errors.ts";

/** Receives each decoded message and its size (for buffer accounting). */
export type MessageSink = (message: unknown, size: number) => void;

/** An incremental decoder of one serialization format. */
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
  push(
    chunk: Uint8Array,
  ): IpcProtocolError | IpcMessageTooLargeError | undefined;
  /**
   * Marks the end of the input.
   *
   * @returns An error when the input stopped in the middle of a message, or
   *   the error that stopped the decoder earlier.
   */
  end(): IpcProtocolError | IpcMessageTooLargeError | undefined;
}
