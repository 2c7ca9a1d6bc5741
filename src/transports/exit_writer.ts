/**
 * {@linkcode writeBeforeExit}: writing bytes to a socket while the process
 * is exiting, when the socket has no room for them at once.
 *
 * `Deno.exit()` runs `unload` listeners and ends the process: no event loop
 * turns again, so the socket's own handle can never finish a write that had
 * to wait. A Worker has an event loop of its own: it opens a second handle
 * on the same descriptor and writes there while this thread waits for it,
 * until everything is written or the peer has read nothing for a while.
 *
 * @module
 */

/**
 * The worker's code (plain JavaScript, loaded from a `blob:` URL, so it needs
 * no permission). It writes `data` to `fd` in order and reports in `state`:
 * `[phase, bytes written]`, phase 1 once writing, 2 done, 3 failed.
 */
const WORKER_SOURCE = `
import process from "node:process";
self.onmessage = ({ data: { fd, data, state } }) => {
  const report = (phase, written) => {
    Atomics.store(state, 1, written);
    Atomics.store(state, 0, phase);
    Atomics.notify(state, 0);
  };
  const { Pipe, constants } = process.binding("pipe_wrap");
  const stream = process.binding("stream_wrap");
  const pipe = new Pipe(constants.SOCKET);
  if (pipe.open(fd) !== 0) return report(3, 0);
  const bytes = new Uint8Array(data);
  let written = 0;
  report(1, 0);
  const next = () => {
    while (written < bytes.length) {
      const end = Math.min(written + 65536, bytes.length);
      const request = {
        oncomplete(status) {
          if (status < 0) return report(3, written);
          written = end;
          report(1, written);
          next();
        },
      };
      if (pipe.writeBuffer(request, bytes.slice(written, end)) < 0) {
        return report(3, written);
      }
      if (stream.streamBaseState[stream.kLastWriteWasAsync] !== 0) return;
      written = end;
      report(1, written);
    }
    report(2, written);
  };
  next();
};
`;

/** How long the worker may take to start before the exit goes ahead. */
const WORKER_START_MS = 10_000;
/** Longest single wait, so progress is seen and the stall timer restarts. */
const POLL_MS = 50;

/**
 * Writes `bytes` to the socket on descriptor `fd` before the process exits,
 * blocking this thread: a Worker writes them while this thread waits. Gives
 * up once the peer has taken nothing for `stallMs` (it does not read).
 *
 * @param fd The socket's descriptor.
 * @param bytes What to write, after everything written before.
 * @param stallMs How long the peer may read nothing before giving up.
 * @returns How many of the bytes were written.
 */
export function writeBeforeExit(
  fd: number,
  bytes: Uint8Array,
  stallMs: number,
): number {
  if (bytes.length === 0) return 0;
  const data = new SharedArrayBuffer(bytes.length);
  new Uint8Array(data).set(bytes);
  const state = new Int32Array(new SharedArrayBuffer(8));
  let worker: Worker;
  try {
    const url = URL.createObjectURL(
      new Blob([WORKER_SOURCE], { type: "application/javascript" }),
    );
    worker = new Worker(url, { type: "module" });
  } catch {
    return 0;
  }
  worker.postMessage({ fd, data, state });
  // Until the worker writes, it may take its time to start; then the peer
  // may read nothing for at most `stallMs`.
  let seen = -1;
  let deadline = performance.now() + WORKER_START_MS;
  for (;;) {
    const phase = Atomics.load(state, 0);
    if (phase >= 2) break;
    const now = performance.now();
    const written = Atomics.load(state, 1);
    if (phase === 1 && written !== seen) {
      seen = written;
      deadline = now + stallMs;
    }
    if (now >= deadline) break;
    Atomics.wait(state, 0, phase, Math.min(deadline - now, POLL_MS));
  }
  worker.terminate();
  return Atomics.load(state, 1);
}
