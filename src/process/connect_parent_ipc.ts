/**
 * The child's side: {@linkcode connectParentIpc} opens the channel the parent
 * put on fd 3.
 *
 * @module
 */

import { IpcChannelNotFoundError } from "./errors.ts";
import { NodeSocketTransport } from "./node_socket_transport.ts";
import {
  ProcessChannelTransport,
  runtimeOwnsChannel,
} from "./process_channel_transport.ts";
import { IpcJsonStream, type IpcJsonStreamOptions } from "./stream.ts";

/** The descriptor `spawnWithIpc()` puts the channel on. */
export const CHANNEL_FD = 3;
/** The environment variable naming the channel's descriptor, set by `spawnWithIpc()`. */
export const CHANNEL_FD_ENV = "IPC_CHANNEL_FD";

/** Options of {@linkcode connectParentIpc}. */
export interface ConnectParentIpcOptions<In = unknown>
  extends IpcJsonStreamOptions<In> {
  /**
   * The descriptor of the channel. By default it is read from the
   * `IPC_CHANNEL_FD` environment variable when this process may read it
   * (checked without prompting), else 3.
   */
  fd?: number;
}

let parentChannel: IpcJsonStream<unknown, unknown> | undefined;

/**
 * Opens the channel to the parent that started this process with
 * `spawnWithIpc()`.
 *
 * Needs no permissions. Call it once: later calls return the same stream
 * (their options are ignored). The stream's iterator ends when the parent
 * closes the channel or exits, so an orphaned child can finish.
 *
 * @typeParam In The type of the messages from the parent.
 * @typeParam Out The type of the messages to the parent.
 * @param options Size limits, buffer sizes, and the descriptor.
 * @returns The channel to the parent.
 * @throws {IpcChannelNotFoundError} When this process has no channel: it
 *   was not started by `spawnWithIpc()`. It never hangs waiting for one.
 *
 * @example An echo child
 * ```ts ignore
 * import { connectParentIpc } from "@tether/ipc";
 *
 * const parent = connectParentIpc();
 * for await (const message of parent) await parent.send({ echo: message });
 * ```
 */
export function connectParentIpc<In = unknown, Out = unknown>(
  options: ConnectParentIpcOptions<In> = {},
): IpcJsonStream<In, Out> {
  if (parentChannel === undefined && runtimeOwnsChannel()) {
    if (options.serialization === "advanced") {
      throw new IpcChannelNotFoundError(
        `This process was started with NODE_CHANNEL_FD, so Deno's runtime owns the channel, ` +
          `and it supports only JSON serialization. Start it without nodeCompat to use "advanced".`,
      );
    }
    parentChannel = new IpcJsonStream(new ProcessChannelTransport(), {
      ...options,
      nodeCompat: true,
    }) as IpcJsonStream<unknown, unknown>;
  }
  if (parentChannel === undefined) {
    const fd = options.fd ?? channelFdFromEnvironment() ?? CHANNEL_FD;
    let transport: NodeSocketTransport;
    try {
      transport = NodeSocketTransport.fromFd(fd);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new IpcChannelNotFoundError(
        `This process has no IPC channel: fd ${fd} is not a socket (${reason}). ` +
          `Start it from the parent with spawnWithIpc(), which puts the channel on fd ${CHANNEL_FD}.`,
        { cause: error },
      );
    }
    parentChannel = new IpcJsonStream(transport, options) as IpcJsonStream<
      unknown,
      unknown
    >;
  }
  return parentChannel as IpcJsonStream<In, Out>;
}

/**
 * Reads `IPC_CHANNEL_FD` when the process may, without ever prompting.
 * Returns `undefined` when it may not read it.
 */
function channelFdFromEnvironment(): number | undefined {
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
