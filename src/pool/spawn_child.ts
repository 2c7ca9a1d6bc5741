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
import type { IpcPoolOptions, PoolSettings } from "./options.ts";

/**
 * Starts one child of a pool: `deno` with the pool's arguments, its
 * environment and standard streams, and a channel with its limits.
 *
 * @param options The pool's options.
 * @param settings The pool's checked settings.
 * @returns The running child.
 * @throws {IpcSpawnError} When Deno cannot be started.
 */
export function spawnPoolChild(
  options: IpcPoolOptions,
  settings: PoolSettings,
): IpcChildProcess {
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
  return process;
}
