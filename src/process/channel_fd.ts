/**
 * Where the channel is: fd 3, named by `IPC_CHANNEL_FD` in the child's
 * environment.
 *
 * @module
 */

import { IpcChannelNotFoundError } from "./errors.ts";

/** The descriptor `spawnWithIpc()` puts the channel on. */
export const CHANNEL_FD = 3;
/** The environment variable naming the channel's descriptor, set by `spawnWithIpc()`. */
export const CHANNEL_FD_ENV = "IPC_CHANNEL_FD";

/**
 * Reads `IPC_CHANNEL_FD` when the process may, without ever prompting.
 * Returns `undefined` when it may not read it.
 */
export function channelFdFromEnvironment(): number | undefined {
  const permission = Deno.permissions.querySync({
    name: "env",
    variable: CHANNEL_FD_ENV,
  });
  if (permission.state !== "granted") return undefined;
  const value = Deno.env.get(CHANNEL_FD_ENV);
  if (value === undefined) {
    throw new IpcChannelNotFoundError(
      `This process has no IPC channel: ${CHANNEL_FD_ENV} is not set. ` +
        `Start it from the parent with spawnWithIpc(), which sets it.`,
    );
  }
  const fd = Number(value);
  if (!Number.isSafeInteger(fd) || fd <= 2) {
    throw new IpcChannelNotFoundError(
      `${CHANNEL_FD_ENV} is ${
        JSON.stringify(value)
      }, which is not a file descriptor above 2.`,
    );
  }
  return fd;
}
