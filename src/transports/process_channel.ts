/**
 * The transport of a Deno child started with `NODE_CHANNEL_FD` (by
 * `spawnWithIpc(…, { nodeCompat: true })` or Node's `fork`): the runtime
 * itself then owns the channel and reads it for `process.on("message")`, so
 * opening fd 3 a second time would split the messages between two readers.
 * This transport goes through `process.send()` and `process.on("message")`
 * instead.
 *
 * It re-encodes each message to feed the stream's decoder (and parses each
 * written line to hand `process.send()` a value): a compatibility path, not a
 * fast one. A child started without `nodeCompat` uses the socket directly.
 *
 * @module
 */

import process from "node:process";
import type { IpcTransport, IpcTransportSink } from "./transport.ts";

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** `true` when the runtime set up a Node-style IPC channel for this process. */
export function runtimeOwnsChannel(): boolean {
  return typeof process.send === "function";
}

/** Messages through the runtime's own `process.send()` channel. */
export class ProcessChannelTransport implements IpcTransport {
  readonly reusesReadBuffer = false;
  #sink: IpcTransportSink | undefined;
  #onMessage = (message: unknown) => {
    this.#sink?.data(utf8Encoder.encode(JSON.stringify(message) + "\n"));
  };
  #onDisconnect = () => {
    this.#detach();
    this.#sink?.end();
  };

  start(sink: IpcTransportSink): void {
    this.#sink = sink;
    process.on("message", this.#onMessage);
    process.once("disconnect", this.#onDisconnect);
  }

  resume(): void {
    // process.on("message") cannot be paused; messages wait in the stream.
  }

  write(data: string | Uint8Array, done: (error?: Error) => void): void {
    const text = typeof data === "string" ? data : utf8Decoder.decode(data);
    const lines = text.split("\n");
    lines.pop(); // the text ends with a newline
    const send = process.send!.bind(process);
    lines.forEach((line, index) => {
      const last = index === lines.length - 1;
      send(JSON.parse(line), undefined, undefined, (error: Error | null) => {
        if (last || error) done(error ?? undefined);
      });
    });
  }

  close(): Promise<void> {
    this.destroy();
    return Promise.resolve();
  }

  destroy(): void {
    this.#detach();
    if (process.connected) process.disconnect();
  }

  ref(): void {
    (process.channel as { ref?: () => void } | undefined)?.ref?.();
  }

  unref(): void {
    (process.channel as { unref?: () => void } | undefined)?.unref?.();
  }

  #detach(): void {
    process.off("message", this.#onMessage);
    process.off("disconnect", this.#onDisconnect);
  }
}
