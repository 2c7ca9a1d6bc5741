/**
 * {@linkcode spawnPoolChild}: how an `IpcPool` starts one child, in one
 * place.
 *
 * @module
 */

import {
  type IpcChildProcess,
  spawnWithIpc,
} from "../process/spawn_with_ipc.ts";
import {
  spawnWorkerWithIpc,
  workerAsChild,
} from "../process/spawn_worker_with_ipc.ts";
import type { IpcPoolOptions, PoolSettings } from "./options.ts";
import {
  type PlainMessageCounts,
  readPlainMessages,
} from "./plain_messages.ts";

/**
 * Starts one child of a pool: `deno` with the pool's arguments, its
 * environment and standard streams, and a channel with its limits.
 *
 * @param options The pool's options.
 * @param settings The pool's checked settings.
 * @param plain Where to count the plain messages the child sends.
 * @returns The running child.
 * @throws {IpcSpawnError} When Deno cannot be started.
 */
export function spawnPoolChild(
  options: IpcPoolOptions,
  settings: PoolSettings,
  plain: PlainMessageCounts,
): IpcChildProcess {
  if (settings.kind === "worker") {
    const worker = spawnWorker(options);
    readPlainMessages(worker.ipc, worker.pid, options.onMessage, plain);
    return worker;
  }
  const trace = options.trace;
  let pid = 0;
  const process = spawnWithIpc(Deno.execPath(), {
    args: settings.spawnArgs,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: options.stdout,
    stderr: options.stderr,
    maxMessageBytes: options.maxMessageBytes,
    sendBufferBytes: options.sendBufferBytes,
    receiveBufferBytes: options.receiveBufferBytes,
    trace: trace === undefined ? undefined : (event) => trace(event, pid),
  });
  pid = process.pid;
  readPlainMessages(process.ipc, pid, options.onMessage, plain);
  return process;
}

/** A worker in the shape of a child; its `pid` is this process's. */
function spawnWorker(options: IpcPoolOptions): IpcChildProcess {
  const trace = options.trace;
  return workerAsChild(spawnWorkerWithIpc(options.module, {
    name: `pool-worker-${++workersStarted}`,
    permissions: options.permissions,
    unstableWorkerOptions: options.unstableWorkerOptions,
    maxMessageBytes: options.maxMessageBytes,
    sendBufferBytes: options.sendBufferBytes,
    receiveBufferBytes: options.receiveBufferBytes,
    trace: trace === undefined ? undefined : (event) => trace(event, Deno.pid),
  }));
}

let workersStarted = 0;
