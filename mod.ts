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

export {
  IpcCancelledError,
  IpcChildExitedError,
  IpcMethodNotFoundError,
  IpcQueueFullError,
  IpcRemoteError,
  type IpcRemoteErrorDetails,
  IpcTimeoutError,
} from "./src/call_errors.ts";
export type {
  IpcCallContext,
  IpcHandler,
  IpcRequestOptions,
} from "./src/calls.ts";
export {
  connectParentIpc,
  type ConnectParentIpcOptions,
} from "./src/connect_parent.ts";
export {
  IpcChannelNotFoundError,
  IpcClosedError,
  IpcError,
  IpcMessageTooLargeError,
  IpcProtocolError,
  IpcValidationError,
} from "./src/errors.ts";
export {
  type IpcChildProcess,
  type IpcChildStatus,
  IpcSpawnError,
  type IpcStdio,
  spawnWithIpc,
  type SpawnWithIpcOptions,
} from "./src/spawn.ts";
export {
  type IpcMessageValidator,
  type StandardSchemaV1,
} from "./src/validation.ts";
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_RECEIVE_BUFFER_BYTES,
  DEFAULT_SEND_BUFFER_BYTES,
  IpcJsonStream,
  type IpcJsonStreamOptions,
  type IpcSerialization,
} from "./src/stream.ts";
export type { IpcTransport, IpcTransportSink } from "./src/transport.ts";
export type { IpcByteStreams } from "./src/web_stream_transport.ts";
export type { IpcPermissions } from "./src/permission_flags.ts";
export { DEFAULT_MAX_QUEUE, IpcPool, type IpcPoolOptions } from "./src/pool.ts";
export { type IpcHandlers, serveParentCalls } from "./src/serve.ts";
export type {
  IpcCallStats,
  IpcLatencyStats,
  IpcPoolChildStats,
  IpcPoolStats,
  IpcStreamStats,
} from "./src/stats.ts";
export type { IpcTraceEvent, IpcTraceFunction } from "./src/trace.ts";
export {
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_NETWORK_MAX_MESSAGE_BYTES,
  type IpcAuthOptions,
  type IpcTlsClientOptions,
  type IpcTlsServerOptions,
} from "./src/channel_options.ts";
export {
  connectIpc,
  type ConnectIpcCommonOptions,
  type ConnectIpcOptions,
  type ConnectIpcTcpOptions,
  type ConnectIpcUnixOptions,
} from "./src/connect.ts";
export {
  IpcAddressInUseError,
  IpcAuthenticationError,
  IpcConnectionRefusedError,
  IpcHandshakeError,
  IpcHandshakeTimeoutError,
  IpcInsecureSetupError,
} from "./src/connection_errors.ts";
export { DenoConnTransport } from "./src/deno_conn_transport.ts";
export {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  MIN_AUTH_KEY_BYTES,
} from "./src/handshake.ts";
export {
  type IpcListener,
  listenIpc,
  type ListenIpcCommonOptions,
  type ListenIpcOptions,
  type ListenIpcTcpOptions,
  type ListenIpcUnixOptions,
} from "./src/listen.ts";
