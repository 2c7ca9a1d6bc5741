/**
 * {@linkcode AdvancedDecoder}: the bytes of a stream of `"advanced"` frames,
 * in chunks of any size, turned into messages.
 *
 * @module
 */

import {
  IpcMessageTooLargeError,
  IpcProtocolError,
} from "../channel/errors.ts";
import { messageOf } from "../internal/error_message.ts";
import { deserializePayload, HEADER_BYTES } from "./advanced_frame.ts";
import type { DecodeError, MessageDecoder, MessageSink } from "./codec.ts";

const EXCERPT_BYTES = 16;

/**
 * Incremental decoder of length-prefixed V8 frames. A frame's payload is
 * gathered into one array of the announced size, so a large message costs
 * one copy, and decoded views (typed arrays) point into it without another.
 */
export class AdvancedDecoder implements MessageDecoder {
  #sink: MessageSink;
  #maxMessageBytes: number;
  #header = new Uint8Array(HEADER_BYTES);
  #headerFilled = 0;
  #payload: Uint8Array | undefined;
  #payloadFilled = 0;
  #frameStart = 0;
  #bytesReceived = 0;
  #messageCount = 0;
  #error: DecodeError | undefined;

  /**
   * @param sink Called with each message, in order.
   * @param options The size limit of a payload.
   */
  constructor(sink: MessageSink, options: { maxMessageBytes: number }) {
    this.#sink = sink;
    this.#maxMessageBytes = options.maxMessageBytes;
  }

  get messageCount(): number {
    return this.#messageCount;
  }

  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  get pendingBytes(): number {
    return this.#headerFilled + this.#payloadFilled;
  }

  push(
    chunk: Uint8Array,
  ): DecodeError | undefined {
    if (this.#error !== undefined) return this.#error;
    const start = this.#bytesReceived;
    this.#bytesReceived += chunk.length;
    let at = 0;
    while (at < chunk.length && this.#error === undefined) {
      if (this.#payload === undefined) {
        if (this.#headerFilled === 0) this.#frameStart = start + at;
        const take = Math.min(
          HEADER_BYTES - this.#headerFilled,
          chunk.length - at,
        );
        this.#header.set(chunk.subarray(at, at + take), this.#headerFilled);
        this.#headerFilled += take;
        at += take;
        if (this.#headerFilled < HEADER_BYTES) break;
        const size = new DataView(this.#header.buffer).getUint32(0);
        if (size > this.#maxMessageBytes) {
          this.#fail(
            new IpcMessageTooLargeError(
              `IPC message #${this.#messageCount} at byte offset ${this.#frameStart} announces ` +
                `${size} bytes, over maxMessageBytes (${this.#maxMessageBytes}). The receiving side ` +
                `stopped; raise maxMessageBytes on the receiver if such messages are expected.`,
              size,
              this.#maxMessageBytes,
            ),
          );
          break;
        }
        // A frame wholly inside this chunk needs no gathering, but still a
        // copy: decoded views must not point into a reused read buffer.
        this.#payload = new Uint8Array(size);
        this.#payloadFilled = 0;
      }
      const payload = this.#payload;
      const take = Math.min(
        payload.length - this.#payloadFilled,
        chunk.length - at,
      );
      payload.set(chunk.subarray(at, at + take), this.#payloadFilled);
      this.#payloadFilled += take;
      at += take;
      if (this.#payloadFilled === payload.length) this.#deliver(payload);
    }
    return this.#error;
  }

  end(): DecodeError | undefined {
    if (this.#error !== undefined) return this.#error;
    if (this.#headerFilled === 0) return undefined;
    const expected = this.#payload === undefined
      ? "its 4-byte length"
      : `${this.#payload.length} payload bytes`;
    return this.#fail(
      new IpcProtocolError(
        `The IPC channel ended in the middle of a message: message #${this.#messageCount} ` +
          `(byte offset ${this.#frameStart}) got ${this.pendingBytes} bytes of ${expected}. ` +
          `The peer exited or closed the channel while writing it.`,
        {
          messageIndex: this.#messageCount,
          byteOffset: this.#frameStart,
          excerpt: hexExcerpt(
            this.#payload?.subarray(0, this.#payloadFilled) ?? this.#header,
          ),
          truncated: true,
        },
      ),
    );
  }

  #deliver(payload: Uint8Array): void {
    this.#payload = undefined;
    this.#headerFilled = 0;
    this.#payloadFilled = 0;
    let message: unknown;
    try {
      message = deserializePayload(payload);
    } catch (error) {
      const reason = messageOf(error);
      this.#fail(
        new IpcProtocolError(
          `Corrupt IPC message #${this.#messageCount} at byte offset ${this.#frameStart}: ` +
            `its ${payload.length}-byte payload is not a V8 serialization (${reason}). ` +
            `With serialization "advanced" both ends must send Node's advanced format.`,
          {
            messageIndex: this.#messageCount,
            byteOffset: this.#frameStart,
            excerpt: hexExcerpt(payload),
            truncated: false,
          },
          { cause: error },
        ),
      );
      return;
    }
    this.#messageCount++;
    this.#sink(message, payload.length);
  }

  #fail<E extends DecodeError>(error: E): E {
    this.#error = error;
    this.#payload = undefined;
    this.#headerFilled = 0;
    this.#payloadFilled = 0;
    return error;
  }
}

function hexExcerpt(bytes: Uint8Array): string {
  const shown = Array.from(
    bytes.subarray(0, EXCERPT_BYTES),
    (byte) => byte.toString(16).padStart(2, "0"),
  );
  return shown.join(" ") + (bytes.length > EXCERPT_BYTES ? " …" : "");
}
