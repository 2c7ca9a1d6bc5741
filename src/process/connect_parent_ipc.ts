/**
 * The child's side: {@linkcode connectParentIpc} opens the channel the parent
 * put on fd 3 (named by `IPC_CHANNEL_FD`), the one Deno's runtime owns
 * (`NODE_CHANNEL_FD`), or, in a Web Worker, the worker's port.
 *
 * @module
 */

import { IpcJsonStream } from "../channel/ipc_json_stream.ts";
import {
  checkStreamOptions,
  type IpcJsonStreamOptions,
} from "../channel/options.ts";
import { messageOf } from "../internal/error_message.ts";
import { NodeSocketTransport } from "../transports/node_socket.ts";
import {
  ProcessChannelTransport,
  runtimeOwnsChannel,
} from "../transports/process_channel.ts";
import {
  type WorkerPort,
  WorkerPortTransport,
} from "../transports/worker_port.ts";
import { IpcChannelNotFoundError } from "../errors.ts";

/** The descriptor `spawnWithIpc()` puts the channel on. */
export const CHANNEL_FD = 3;
/** The environment variable naming the channel's descriptor, set by `spawnWithIpc()`. */
export const CHANNEL_FD_ENV = "IPC_CHANNEL_FD";

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

/** The global scope of a worker, as far as it is used here. */
interface WorkerScope extends WorkerPort {
  close(): void;
}

/** `true` when this code runs inside a Web Worker. */
function inWorker(): boolean {
  const scope =
    (globalThis as { WorkerGlobalScope?: abstract new () => unknown })
      .WorkerGlobalScope;
  return typeof scope === "function" && globalThis instanceof scope;
}

/**
 * Opens the channel to the parent through this worker's own port. A
 * `self.close()` or `Deno.exit()` from now on first tells the parent, so its
 * channel ends with an error naming the cause instead of waiting forever:
 * the parent's `Worker` has no event for either.
 *
 * @param options The channel's options.
 * @returns The channel to the parent.
 */
function workerParentChannel<In>(
  options: IpcJsonStreamOptions<In>,
): IpcJsonStream<In, unknown> {
  const settings = checkStreamOptions(options);
  const scope = globalThis as unknown as WorkerScope;
  const transport = new WorkerPortTransport(scope, {
    side: "worker",
    window: settings.receiveBufferBytes,
  });
  const channel = new IpcJsonStream<In, unknown>(transport, options);
  let closing = false;
  // Deno.exit() fires `unload` (after the channel's own listener has handed
  // over what it queued, which then goes out before the notice).
  globalThis.addEventListener("unload", () => {
    if (closing) transport.exiting("called self.close()");
    else {
      const code = Deno.exitCode;
      transport.exiting(`called Deno.exit(${code})`, code);
    }
  });
  const close = scope.close.bind(scope);
  scope.close = () => {
    closing = true;
    globalThis.dispatchEvent(new Event("unload"));
    close();
  };
  return channel;
}
