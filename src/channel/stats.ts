/**
 * The shape of a channel's figures, `IpcJsonStream.stats()`.
 *
 * @module
 */

import type { IpcCallStats } from "../calls/stats.ts";

/**
 * What went through one channel since it was created.
 *
 * @example Messages and bytes both ways
 * ```ts
 * import { IpcJsonStream } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("ping", () => "pong");
 * await caller.request("ping");
 * const { messagesOut, messagesIn, bytesOut, errors } = caller.stats();
 * console.log(messagesOut, messagesIn, bytesOut, errors); // 1 1 41 0
 * await caller.close();
 * await callee.close();
 * ```
 */
export interface IpcStreamStats {
  /** Messages received, calls and answers included. */
  messagesIn: number;
  /** Messages sent (queued or written), calls and answers included. */
  messagesOut: number;
  /** Bytes received. */
  bytesIn: number;
  /**
   * Bytes written. JSON text is counted without re-encoding it: exact for
   * ASCII; each character beyond ASCII counts as one (or two, outside the
   * Basic Multilingual Plane), so it is then a lower bound. Exact with the
   * `"advanced"` serialization.
   */
  bytesOut: number;
  /**
   * Plain messages dropped because `receiveBufferBytes` of them waited
   * unread, with `receiveOverflow: "drop"`.
   */
  messagesDropped: number;
  /**
   * Failures: calls this end made that failed, calls from the peer answered
   * with an error, and 1 if the channel itself failed (bad input or a broken
   * connection).
   */
  errors: number;
  /** The calls made in each direction. */
  calls: IpcCallStats;
}

/**
 * The figures of a channel, from its counts and its calls' figures.
 *
 * @param messagesIn Messages received.
 * @param bytesIn Bytes received.
 * @param sent The counts of what was sent.
 * @param state Whether the channel failed, and its calls' figures.
 */
export function streamStats(
  messagesIn: number,
  bytesIn: number,
  sent: { messagesOut: number; bytesOut: number },
  state: { failed: boolean; dropped: number; calls: IpcCallStats },
): IpcStreamStats {
  const { calls } = state;
  return {
    messagesIn,
    messagesOut: sent.messagesOut,
    bytesIn,
    bytesOut: sent.bytesOut,
    messagesDropped: state.dropped,
    errors: calls.failed + calls.handlerErrors + (state.failed ? 1 : 0),
    calls,
  };
}
