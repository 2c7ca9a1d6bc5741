/**
 * The transport of a Deno child started with `NODE_CHANNEL_FD` (by
 * `spawnWithIpc(…, { nodeCompat: true })` or Node's `fork`): the runtime
 * itself then owns the channel and reads it for `process.on("message")`, so
 * opening fd 3 a second time would split the messages between two readers.
 * This transport carries whole messages through `process.send()` and
 * `process.on("message")` instead. A child started without `nodeCompat`
 * uses the socket directly.
 *
 * @module
 */

import process from "node:process";
import { encodeJsonText } from "../codec/json.ts";
import type { IpcMessageSink, IpcMessageTransport } from "./transport.ts";

/** `true` when the runtime set up a Node-style IPC channel for this process. */
export function runtimeOwnsChannel(): boolean {
  return typeof process.send === "function";
}

/** Messages through the runtime's own `process.send()` channel (JSON only). */
export class ProcessChannelTransport implements IpcMessageTransport {
  readonly carriesMessages = true;
  #sink: IpcMessageSink | undefined;
  #onMessage = (message: unknown) => {
    // process.on("message") cannot be paused; messages wait in the channel.
    this.#sink?.message(message, 0);
  };
  #onDisconnect = () => {
    this.#detach();
    this.#sink?.end();
  };

  start(sink: IpcMessageSink): void {
    this.#sink = sink;
    process.on("message", this.#onMessage);
    process.once("disconnect", this.#onDisconnect);
  }

  resume(): void {
    // Nothing was paused: see #onMessage.
  }

  measure(message: unknown, maxMessageBytes: number): number {
    // The runtime's channel speaks JSON: refuse what it cannot carry now.
    return encodeJsonText(message, maxMessageBytes).length;
  }

  write(messages: readonly unknown[], done: (error?: Error) => void): void {
    const send = process.send!.bind(process);
    let reported = false;
    messages.forEach((message, index) => {
      const last = index === messages.length - 1;
      send(message, undefined, undefined, (error: Error | null) => {
        if (reported || (!last && !error)) return;
        reported = true;
        done(error ?? undefined);
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
