/**
 * {@linkcode flushAtExit}: what a channel does with its queued messages when
 * the process exits.
 *
 * @module
 */

import type { MessageEncoder } from "../codec/codec.ts";

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
