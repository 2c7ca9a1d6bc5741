/**
 * {@linkcode connectNatsCalls}: the caller's side of calls over NATS.
 *
 * @module
 */

import { durationOption } from "../internal/check_option.ts";
import { NatsCaller } from "./nats_caller.ts";
import {
  checkName,
  type IpcNatsConnectOptions,
  openConnection,
} from "./options.ts";
import type { IpcNatsCaller } from "./types.ts";

/** The timeout of a call that names none, in milliseconds. */
export const DEFAULT_NATS_CALL_TIMEOUT = 30_000;

/**
 * Options of {@linkcode connectNatsCalls}: the server, the service, and the
 * calls' default timeout.
 *
 * @example
 * ```ts
 * import type { ConnectNatsCallsOptions } from "@tether/ipc/nats";
 *
 * const options: ConnectNatsCallsOptions = {
 *   servers: "nats://127.0.0.1:4222",
 *   service: "math",
 *   timeout: 10_000,
 * };
 * console.log(options.service); // math
 * ```
 */
export interface ConnectNatsCallsOptions extends IpcNatsConnectOptions {
  /** The service to call, as its workers named it in `serveNatsCalls()`. */
  service: string;
  /**
   * Milliseconds a call waits for its answer unless it names its own
   * `timeout`; `Infinity` for no limit. Over a network a call must not wait
   * for ever: a worker that dies during a call never answers it.
   *
   * @default {30000}
   */
  timeout?: number;
}

/**
 * Connects to the workers of a NATS service: each `request()` goes to one
 * of them (NATS spreads calls over the queue group), with the semantics of a
 * channel's calls.
 *
 * Needs `--allow-net` for the server (and `--allow-read` for TLS files).
 *
 * @param options The server, the credentials and the service.
 * @returns The caller, once connected.
 * @throws {TypeError} When an option is invalid.
 * @throws {Error} The NATS client's error when the server cannot be reached
 *   or refuses the credentials.
 *
 * @example Call the workers of the service "math"
 * ```ts ignore
 * import { connectNatsCalls } from "@tether/ipc/nats";
 *
 * await using calls = await connectNatsCalls({ servers: "nats://127.0.0.1:4222", service: "math" });
 * console.log(await calls.request("fib", { n: 20 })); // answered by any worker of "math"
 * ```
 */
export async function connectNatsCalls(
  options: ConnectNatsCallsOptions,
): Promise<IpcNatsCaller> {
  const owner = "connectNatsCalls()";
  const service = checkName(owner, "service", options?.service);
  const timeout = durationOption(
    owner,
    "timeout",
    options.timeout,
    DEFAULT_NATS_CALL_TIMEOUT,
  );
  const { connection, owned } = await openConnection(owner, options);
  return new NatsCaller(connection, owned, service, timeout);
}
