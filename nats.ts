/**
 * Calls over NATS: the handlers of a pool worker, served by any number of
 * worker processes on any machines, and called with the same API as a
 * channel's calls.
 *
 * A worker registers a NATS service with {@linkcode serveNatsCalls}; callers
 * use {@linkcode connectNatsCalls}. NATS spreads the calls over the workers of
 * the queue group, answers "no responders" at once when none serves a method,
 * and carries TLS and authentication (user and password, token, NKEY). This
 * entry point depends on the official NATS client (`npm:@nats-io/transport-node`);
 * `@tether/ipc` itself has no dependencies.
 *
 * Never expose a NATS server without authentication: whoever reaches it can
 * call every method of every service on it. See `docs/nats.md`.
 *
 * @example A worker (`deno run --allow-net worker.ts`)
 * ```ts ignore
 * import { serveNatsCalls } from "@tether/ipc/nats";
 *
 * await serveNatsCalls(
 *   { add: ({ a, b }: { a: number; b: number }) => a + b },
 *   { servers: "nats://127.0.0.1:4222", service: "math" },
 * );
 * ```
 *
 * @example A caller (`deno run --allow-net caller.ts`)
 * ```ts ignore
 * import { connectNatsCalls } from "@tether/ipc/nats";
 *
 * await using calls = await connectNatsCalls({ servers: "nats://127.0.0.1:4222", service: "math" });
 * console.log(await calls.request("add", { a: 1, b: 2 }, { timeout: 5000 })); // 3
 * ```
 *
 * @module
 */

export {
  DEFAULT_NATS_CONCURRENCY,
  type IpcNatsCallTarget,
  serveNatsCalls,
  type ServeNatsCallsOptions,
} from "./src/nats/serve_nats_calls.ts";
export {
  connectNatsCalls,
  type ConnectNatsCallsOptions,
  DEFAULT_NATS_CALL_TIMEOUT,
} from "./src/nats/connect_nats_calls.ts";
export type {
  IpcNatsConnection,
  IpcNatsConnectOptions,
  IpcNatsTlsOptions,
} from "./src/nats/options.ts";
export type {
  IpcNatsCaller,
  IpcNatsRemote,
  IpcNatsService,
} from "./src/nats/types.ts";
export type {
  IpcNatsCallerStats,
  IpcNatsServiceStats,
} from "./src/nats/stats.ts";
export { IpcNoRespondersError } from "./src/errors.ts";

// The errors and types shared with the channel's calls, for one import.
export {
  IpcClosedError,
  IpcError,
  IpcMessageTooLargeError,
  IpcProtocolError,
} from "./src/errors.ts";
export {
  IpcCancelledError,
  IpcRemoteError,
  IpcTimeoutError,
} from "./src/errors.ts";
export type {
  IpcCallContext,
  IpcHandler,
  IpcHandlers,
  IpcRequestOptions,
} from "./src/calls/types.ts";
export type { IpcLatencyStats } from "./src/calls/stats.ts";
export type { IpcParamsOf, IpcResultOf } from "./src/calls/remote.ts";
