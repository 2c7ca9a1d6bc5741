/**
 * Fast, safe message channels between a Deno parent and its child processes.
 *
 * The parent starts a child with {@linkcode spawnWithIpc}: the child gets a
 * private Unix socketpair on fd 3 and opens it with
 * {@linkcode connectParentIpc}. Both ends get an {@linkcode IpcJsonStream}:
 * `send(value)` and an async iterator of messages, carried as
 * newline-delimited JSON (Node's `"json"` IPC format, so a child in Node.js,
 * Bun, Python or any language can take part).
 *
 * A Deno child needs no permissions for the channel, and gets exactly the
 * permission flags its parent passes, none by default.
 *
 * Either end can call the other with {@linkcode IpcJsonStream.request},
 * answered by {@linkcode IpcJsonStream.handle} (JSON-RPC 2.0 on the same
 * channel), and an {@linkcode IpcPool} spreads calls over several children.
 *
 * @example Parent (`deno run --allow-run --allow-env parent.ts`)
 * ```ts ignore
 * import { spawnWithIpc } from "@tether/ipc";
 *
 * const child = spawnWithIpc(Deno.execPath(), { args: ["run", "child.ts"] });
 * await child.ipc.send({ hello: "child" });
 * for await (const message of child.ipc) {
 *   console.log(message); // { echo: { hello: "child" } }
 *   await child.ipc.close();
 * }
 * console.log(await child.status); // { success: true, code: 0, signal: null }
 * ```
 *
 * @example Child (`child.ts`, needs no permissions)
 * ```ts ignore
 * import { connectParentIpc } from "@tether/ipc";
 *
 * const parent = connectParentIpc();
 * for await (const message of parent) await parent.send({ echo: message });
 * ```
 *
 * @example A pool of workers (`worker.ts` calls `serveParentCalls({ fib })`)
 * ```ts ignore
 * import { IpcPool } from "@tether/ipc";
 *
 * await using pool = new IpcPool({ module: new URL("./worker.ts", import.meta.url), size: 2 });
 * console.log(await Promise.all([30, 31].map((n) => pool.request("fib", { n }))));
 * ```
 *
 * @module
 */

// The channel: a two-way message stream over any transport.
export {
  type IpcChannel,
  IpcJsonStream,
  type IpcSendOptions,
  type IpcStreamStats,
} from "./src/channel/ipc_json_stream.ts";
export type { IpcJsonStreamOptions } from "./src/channel/options.ts";
export {
  IpcClosedError,
  IpcError,
  IpcMessageTooLargeError,
  IpcProtocolError,
  IpcValidationError,
} from "./src/errors.ts";
export type { IpcTraceEvent } from "./src/channel/trace.ts";
export type {
  IpcMessageValidator,
  StandardSchemaV1,
} from "./src/channel/validation.ts";

// Codecs: the wire formats.
export type { IpcSerialization } from "./src/codec/codec.ts";

// Transports: what carries bytes or whole messages.
export type {
  IpcMessageSink,
  IpcMessageTransport,
  IpcTransport,
  IpcTransportSink,
} from "./src/transports/transport.ts";
export type { IpcByteStreams } from "./src/transports/web_streams.ts";
export { DenoConnTransport } from "./src/transports/deno_conn.ts";

// Processes: a parent and its children.
export {
  type IpcChildProcess,
  spawnWithIpc,
  type SpawnWithIpcOptions,
} from "./src/process/spawn_with_ipc.ts";
export {
  connectParentIpc,
  type ConnectParentIpcOptions,
} from "./src/process/connect_parent_ipc.ts";
export {
  type IpcChildStatus,
  stopChild,
  type StopChildOptions,
} from "./src/process/stop_child.ts";
export { getCancelSignal } from "./src/process/graceful_cancel.ts";
export {
  type IpcWorker,
  spawnWorkerWithIpc,
  type SpawnWorkerWithIpcOptions,
} from "./src/process/spawn_worker_with_ipc.ts";
export type { IpcPermissions } from "./src/process/permissions.ts";
export {
  IpcChannelNotFoundError,
  IpcChildExitedError,
  IpcSpawnError,
} from "./src/errors.ts";

// Calls: JSON-RPC requests both ways on any channel.
export type {
  IpcCallContext,
  IpcHandler,
  IpcHandlers,
  IpcRequestOptions,
} from "./src/calls/types.ts";
export {
  IpcCancelledError,
  IpcMethodNotFoundError,
  IpcRemoteError,
  IpcTimeoutError,
} from "./src/errors.ts";
export type { IpcCallStats, IpcLatencyStats } from "./src/calls/stats.ts";
export type { IpcCallStream, IpcStreamOptions } from "./src/calls/streams.ts";
export type {
  IpcParamsOf,
  IpcRemote,
  IpcResultOf,
} from "./src/calls/remote.ts";
export { type IpcCaller, remote } from "./src/calls/remote.ts";

// The pool: calls spread over child processes.
export { IpcPool } from "./src/pool/ipc_pool.ts";
export { serveParentCalls } from "./src/pool/serve_parent_calls.ts";
export type {
  IpcPoolCloseOptions,
  IpcPoolOptions,
  IpcPoolRequestOptions,
} from "./src/pool/options.ts";
export type { IpcPoolMapOptions } from "./src/pool/map.ts";
export { IpcQueueFullError } from "./src/errors.ts";
export type { IpcPoolChildStats, IpcPoolStats } from "./src/pool/ipc_pool.ts";

// The network: channels between unrelated processes.
export {
  type IpcListener,
  listenIpc,
  type ListenIpcCommonOptions,
  type ListenIpcOptions,
} from "./src/net/listen_ipc.ts";
export {
  connectIpc,
  type ConnectIpcCommonOptions,
  type ConnectIpcOptions,
} from "./src/net/connect_ipc.ts";
export type {
  IpcAuthOptions,
  IpcTlsClientOptions,
  IpcTlsServerOptions,
} from "./src/net/options.ts";
export {
  IpcAddressInUseError,
  IpcConnectionRefusedError,
  IpcHandshakeError,
} from "./src/errors.ts";
export { IpcNetStream } from "./src/net/ipc_net_stream.ts";
export { IpcReconnectingStream } from "./src/net/reconnect.ts";
export type {
  IpcReconnectEvent,
  IpcReconnectOptions,
  IpcReconnectState,
} from "./src/net/reconnect_options.ts";
