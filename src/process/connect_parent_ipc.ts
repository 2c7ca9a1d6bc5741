/**
 * The child's side: {@linkcode connectParentIpc} opens the channel the parent
 * put on fd 3.
 *
 * @module
 */

import { IpcJsonStream } from "../channel/ipc_json_stream.ts";
import type { IpcJsonStreamOptions } from "../channel/options.ts";
import { messageOf } from "../internal/error_message.ts";
import { NodeSocketTransport } from "../transports/node_socket.ts";
import {
  ProcessChannelTransport,
  runtimeOwnsChannel,
} from "../transports/process_channel.ts";
import { CHANNEL_FD, channelFdFromEnvironment } from "./channel_fd.ts";
import { IpcChannelNotFoundError } from "./errors.ts";
import { inWorker, workerParentChannel } from "./worker_parent.ts";

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
 * `spawnWithIpc()`, or, inside a Web Worker started with
 * `spawnWorkerWithIpc()`, the channel to the worker's parent.
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
  if (parentChannel === undefined && inWorker()) {
    // In a Web Worker (spawnWorkerWithIpc()): the worker's port, not fd 3.
    parentChannel = workerParentChannel(options) as IpcJsonStream<
      unknown,
      unknown
    >;
  }
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
      throw new IpcChannelNotFoundError(
        `This process has no IPC channel: fd ${fd} is not a socket (${
          messageOf(error)
        }). ` +
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
