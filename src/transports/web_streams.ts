/**
 * The transport over a pair of Web streams, such as a `Deno.Conn`, a child's
 * `stdout`/`stdin`, or streams built in a test.
 *
 * @module
 */

import { toError } from "../internal/error_message.ts";
import type { IpcTransport, IpcTransportSink } from "./transport.ts";

const utf8Encoder = new TextEncoder();

/** A readable and a writable byte stream: the two directions of a channel. */
export interface IpcByteStreams {
  /** Bytes from the peer. */
  readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  writable: WritableStream<Uint8Array>;
}

/** Reads chunks from `readable` and writes to `writable`. */
export class WebStreamTransport implements IpcTransport {
  readonly reusesReadBuffer = false;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #sink: IpcTransportSink | undefined;
  #paused = false;
  #reading = false;
  #stopped = false;

  constructor(streams: IpcByteStreams) {
    this.#reader = streams.readable.getReader();
    this.#writer = streams.writable.getWriter();
  }

  start(sink: IpcTransportSink): void {
    this.#sink = sink;
    this.#pump();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (!this.#reading) this.#pump();
  }

  write(data: string | Uint8Array, done: (error?: Error) => void): void {
    const bytes = typeof data === "string" ? utf8Encoder.encode(data) : data;
    this.#writer.write(bytes).then(
      () => done(),
      (error) => done(toError(error)),
    );
  }

  async close(): Promise<void> {
    this.#stopped = true;
    await this.#writer.close().catch(() => {});
    await this.#reader.cancel().catch(() => {});
  }

  destroy(): void {
    this.#stopped = true;
    this.#writer.abort().catch(() => {});
    this.#reader.cancel().catch(() => {});
  }

  ref(): void {}

  unref(): void {}

  async #pump(): Promise<void> {
    const sink = this.#sink!;
    this.#reading = true;
    try {
      while (!this.#paused && !this.#stopped) {
        const { value, done } = await this.#reader.read();
        if (done) {
          this.#stopped = true;
          sink.end();
          return;
        }
        if (!(value instanceof Uint8Array)) {
          throw new TypeError(
            `The readable stream of an IPC channel must yield Uint8Array chunks, got ${typeof value}`,
          );
        }
        if (!sink.data(value)) this.#paused = true;
      }
    } catch (error) {
      if (this.#stopped) return;
      this.#stopped = true;
      sink.error(toError(error));
    } finally {
      this.#reading = false;
    }
  }
}
