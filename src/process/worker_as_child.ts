/**
 * {@linkcode workerAsChild}: a worker from `spawnWorkerWithIpc()` in the
 * shape of a child process, so that what manages children (an `IpcPool`)
 * can run workers too.
 *
 * @module
 */

import type { IpcChildProcess } from "./spawn_with_ipc.ts";
import type { IpcChildStatus } from "./stop_child.ts";
import type { IpcWorker } from "./spawn_worker_with_ipc.ts";

/**
 * A worker as an {@linkcode IpcChildProcess}: `pid` is this process's (the
 * worker runs in it); `status` resolves when the worker is gone, with the
 * code it gave `Deno.exit()` with its channel open, 1 when it failed
 * otherwise (threw, closed itself with its channel open), and 0 after a
 * clean end; `kill()` terminates it, whatever the signal (`false` once it
 * ended). Once its channel
 * is closed, the worker is terminated: a pool's worker has nothing left to
 * do then. It has no standard streams of its own.
 *
 * @param worker The worker, just started.
 * @returns The worker as a child.
 */
export function workerAsChild<In, Out>(
  worker: IpcWorker<In, Out>,
): IpcChildProcess<In, Out> {
  let gone = false;
  const status: Promise<IpcChildStatus> = worker.closed.then((failure) => {
    gone = true;
    const code = failure === undefined ? 0 : failure.code ?? 1;
    return { success: code === 0, code, signal: null };
  });
  worker.ipc.closed.then(() => worker.terminate());
  const noStream = (name: string) =>
    new TypeError(
      `A worker has no ${name} of its own: it shares this process's.`,
    );
  return {
    pid: Deno.pid,
    ipc: worker.ipc,
    status,
    get stdin(): WritableStream<Uint8Array> {
      throw noStream("stdin");
    },
    get stdout(): ReadableStream<Uint8Array> {
      throw noStream("stdout");
    },
    get stderr(): ReadableStream<Uint8Array> {
      throw noStream("stderr");
    },
    kill(): boolean {
      if (gone) return false;
      worker.terminate();
      return true;
    },
    ref(): void {},
    unref(): void {},
    [Symbol.asyncDispose]: () => worker[Symbol.asyncDispose](),
  };
}
