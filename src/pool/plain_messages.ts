/**
 * {@linkcode readPlainMessages}: what an `IpcPool` does with the plain
 * messages its children send besides answers — hands them to `onMessage`,
 * or drops and counts them — so that they never fill a channel's receive
 * buffer and hold the answers up behind them.
 *
 * @module
 */

import type { IpcJsonStream } from "../channel/ipc_json_stream.ts";
import type { IpcPoolMessageHandler } from "./options.ts";

/** The plain messages of every child of one pool. */
export interface PlainMessageCounts {
  /** Messages handed to `onMessage`. */
  delivered: number;
  /** Messages dropped because the pool has no `onMessage`. */
  dropped: number;
}

/**
 * Reads every plain message of one child's channel as it arrives, until the
 * channel ends, and hands it to `onMessage`, or counts it as dropped when
 * there is none. `onMessage` is not awaited; an error it throws is reported
 * with `reportError()` (an uncaught exception, unless an `error` listener on
 * `globalThis` handles it) and reading goes on.
 *
 * @param channel The child's channel.
 * @param pid The child's pid.
 * @param onMessage The pool's `onMessage` option.
 * @param counts Where to count the messages.
 * @returns A promise that resolves once the channel has ended.
 *
 * @example
 * ```ts
 * import { IpcJsonStream } from "../../mod.ts";
 * import { readPlainMessages } from "./plain_messages.ts";
 *
 * const channel = new IpcJsonStream({ readable: new Blob(['"hi"\n']).stream(), writable: new WritableStream() });
 * const counts = { delivered: 0, dropped: 0 };
 * await readPlainMessages(channel, 42, (message, pid) => console.log(message, pid), counts); // hi 42
 * ```
 */
export async function readPlainMessages(
  channel: IpcJsonStream,
  pid: number,
  onMessage: IpcPoolMessageHandler | undefined,
  counts: PlainMessageCounts,
): Promise<void> {
  try {
    for await (const message of channel) {
      if (onMessage === undefined) {
        counts.dropped++;
        continue;
      }
      counts.delivered++;
      try {
        onMessage(message, pid);
      } catch (error) {
        reportError(error);
      }
    }
  } catch {
    // Bad input ends the channel; the supervisor replaces the child.
  }
}
