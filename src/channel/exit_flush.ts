/**
 * Flushing a channel's sent messages: {@linkcode flushSent} behind
 * `ipc.flush()`, and {@linkcode flushAtExit}, what a channel does with its
 * queued messages when the process exits: at `unload` (`Deno.exit()`, a
 * normal end) and at an uncaught error ({@linkcode endsProcess}), for which
 * `unload` does not fire.
 *
 * @module
 */

import process from "node:process";
import type { MessageEncoder } from "../codec/codec.ts";
import type { ChannelLifecycle } from "./lifecycle.ts";
import type { Sender } from "./send_queue.ts";

/**
 * Resolves once everything `sender` was given is written (with the
 * operating system); rejects with the channel's `IpcClosedError` when some of
 * it never will be: a write failed, or the channel closed first.
 */
export async function flushSent(
  sender: Sender,
  life: ChannelLifecycle,
): Promise<void> {
  await sender.flushAll();
  if (sender.lost) throw life.closedError("flush the messages sent");
}

/** Writes what the transport still holds, then the given writes, before the process ends. */
export type WriteAtExit<D> = (data: D[]) => number | undefined;

/**
 * Hands everything `encoder` still holds to `writeAtExit`, which writes it
 * before the process ends; when some of it could not be written (the peer
 * did not read), says so on stderr: nothing else can tell anyone any more.
 *
 * @param encoder The messages queued and not written yet.
 * @param writeAtExit The transport's exit writer.
 */
export function flushAtExit<D>(
  encoder: MessageEncoder<D>,
  writeAtExit: WriteAtExit<D>,
): void {
  const writes: D[] = [];
  for (let batch; (batch = encoder.take()) !== undefined;) {
    writes.push(batch.data);
  }
  const dropped = writeAtExit(writes);
  if (dropped !== undefined && dropped > 0) {
    console.error(
      `@tether/ipc: the process exited while the peer was not reading: dropped ${dropped} bytes of sent messages. ` +
        `Have the peer read, or await ipc.flush() (or close()) before exiting to know.`,
    );
  }
}

/** The events after which an uncaught error ends the process, with no `unload`. */
export const FATAL_EVENTS = ["error", "unhandledrejection"] as const;

/**
 * `true` when `event`, an `error` or `unhandledrejection` event being
 * dispatched, is going to end the process: no listener before this one
 * called `preventDefault()`, and no Node-style `process` listener
 * (`uncaughtException`, `unhandledRejection`), which runs after every
 * global listener, will handle it. A global listener added after this one
 * could still keep the process alive: the exit writer is safe for that.
 */
export function endsProcess(event: Event): boolean {
  if (event.defaultPrevented) return false;
  if (
    process.listenerCount("uncaughtException") > 0 ||
    process.hasUncaughtExceptionCaptureCallback()
  ) {
    return false;
  }
  return event.type !== "unhandledrejection" ||
    process.listenerCount("unhandledRejection") === 0;
}
