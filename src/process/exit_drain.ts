/**
 * {@linkcode endChannelAfterExit}: ending a child's channel once the child
 * has exited and its last data was read, even when a grandchild that
 * inherited fd 3 keeps the socket open.
 *
 * @module
 */

import type { NodeSocketTransport } from "../transports/node_socket.ts";

/**
 * After the child exits, the channel is read until this long passes with
 * nothing arriving; then it ends. This only matters when a grandchild holds
 * the child's end open: otherwise the channel reaches end-of-file at once.
 * Data the child wrote before exiting is already in the socket buffer, so a
 * quiet period of a few event-loop turns is enough; ticks that fire late
 * (a blocked event loop) do not count as quiet.
 */
const EXIT_DRAIN_TICK_MS = 25;
const EXIT_DRAIN_QUIET_TICKS = 4;

/**
 * Ends the channel once the exited child's data is read. Usually the socket
 * reaches end-of-file by itself; when a grandchild inherited fd 3 it never
 * does, so the channel ends after a quiet period (see EXIT_DRAIN_TICK_MS).
 */
export function endChannelAfterExit(transport: NodeSocketTransport): void {
  if (transport.ended) return;
  let chunksSeen = transport.chunksRead;
  let quietTicks = 0;
  let due = performance.now() + EXIT_DRAIN_TICK_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - due > EXIT_DRAIN_TICK_MS;
    due = now + EXIT_DRAIN_TICK_MS;
    if (transport.ended) {
      clearInterval(timer);
    } else if (
      late || transport.paused || transport.chunksRead !== chunksSeen
    ) {
      chunksSeen = transport.chunksRead;
      quietTicks = 0;
    } else if (++quietTicks >= EXIT_DRAIN_QUIET_TICKS) {
      clearInterval(timer);
      transport.finish();
    }
  }, EXIT_DRAIN_TICK_MS);
  // Waiting for a message keeps the process alive; this timer alone should not.
  Deno.unrefTimer(timer);
}
