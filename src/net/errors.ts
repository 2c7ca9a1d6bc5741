/**
 * The errors of channels between unrelated processes (`listenIpc()` and
 * `connectIpc()`):
 *
 * ```text
 * IpcError
 * ├── IpcHandshakeError             the opening handshake failed (reason: authentication,
 * │                                 timeout, dropped, tls, protocol, closed)
 * ├── IpcConnectionRefusedError     nothing listens there, or it is full (busy)
 * └── IpcAddressInUseError          the path or port is taken
 * ```
 *
 * @module
 */

import { IpcError } from "../channel/errors.ts";

/**
 * The opening handshake of a connection failed; nothing the peer sent was
 * delivered, and the connection is closed. `reason` says how:
 *
 * - `"authentication"`: the two sides do not hold the same `authKey`, one
 *   side has a key and the other none, or the peer could not prove that it
 *   knows the key;
 * - `"timeout"`: it did not finish within `handshakeTimeout` milliseconds
 *   (`timeoutMs`): the peer stalled (a slow or hostile client holding a
 *   connection open), or the link is too slow for the limit;
 * - `"dropped"`: a listener dropped it to make room for a newer one:
 *   `maxPendingHandshakes` connections were in their handshake at once (or
 *   `maxPendingHandshakesPerAddress` from one address: `limit` says which),
 *   and this one had waited longest. Reported to `onError`; many of them mean
 *   a flood of stalled or slow connections, or a limit too low for the
 *   clients' bursts;
 * - `"tls"`: the TLS handshake failed;
 * - `"protocol"`: the peer sent bytes that are not this library's handshake,
 *   or another version of it;
 * - `"closed"`: the peer closed the connection in the middle of it, or the
 *   connection failed.
 *
 * @example Report a wrong key, and allow a slow link longer
 * ```ts ignore
 * import { connectIpc, IpcHandshakeError } from "@tether/ipc";
 *
 * const authKey = Deno.readFileSync("/etc/app/ipc.key");
 * const ipc = await connectIpc({ hostname: "daemon.example", port: 7000, authKey, handshakeTimeout: 5_000 })
 *   .catch((error) => {
 *     if (!(error instanceof IpcHandshakeError)) throw error;
 *     if (error.reason === "authentication") console.error(error.message);
 *     if (error.reason !== "timeout") throw error;
 *     return connectIpc({ hostname: "daemon.example", port: 7000, authKey, handshakeTimeout: 30_000 });
 *   });
 * await ipc.close();
 * ```
 */
export class IpcHandshakeError extends IpcError {
  /** How the handshake failed. */
  readonly reason:
    | "authentication"
    | "timeout"
    | "dropped"
    | "tls"
    | "protocol"
    | "closed";
  /** For `"timeout"`: the limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number | undefined;
  /** For `"dropped"`: the listener's limit that was reached. */
  readonly limit:
    | "maxPendingHandshakes"
    | "maxPendingHandshakesPerAddress"
    | undefined;

  /**
   * Creates the error.
   *
   * @param message What happened and what to do about it.
   * @param reason How the handshake failed.
   * @param options The underlying `cause`, if any; `timeoutMs` for a
   *   timeout, `limit` for a dropped handshake.
   */
  constructor(
    message: string,
    reason: IpcHandshakeError["reason"],
    options?: ErrorOptions & {
      timeoutMs?: number;
      limit?: IpcHandshakeError["limit"];
    },
  ) {
    super(message, options);
    this.reason = reason;
    this.timeoutMs = options?.timeoutMs;
    this.limit = options?.limit;
  }
}

/**
 * The connection was refused: nothing listens at the address (a Unix socket
 * path that does not exist, or a closed port), or the server is at its
 * `maxConnections` limit and turned this connection away.
 *
 * @example Retry later when the daemon is busy or not started yet
 * ```ts ignore
 * import { connectIpc, IpcConnectionRefusedError } from "@tether/ipc";
 *
 * for (let attempt = 1; ; attempt++) {
 *   try {
 *     const ipc = await connectIpc({ path: "/run/user/1000/app/app.sock" });
 *     await ipc.close();
 *     break;
 *   } catch (error) {
 *     if (!(error instanceof IpcConnectionRefusedError) || attempt === 5) throw error;
 *     await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
 *   }
 * }
 * ```
 */
export class IpcConnectionRefusedError extends IpcError {
  /** `true` when a server answered but was at its connection limit. */
  readonly busy: boolean;

  /**
   * Creates the error.
   *
   * @param message What happened and what to do about it.
   * @param busy `true` when the server was at its connection limit.
   * @param options The underlying `cause`, if any.
   */
  constructor(message: string, busy: boolean, options?: ErrorOptions) {
    super(message, options);
    this.busy = busy;
  }
}

/**
 * `listenIpc()` found its address taken: a live server already listens on the
 * Unix socket path (it is never replaced; only a stale socket file left by a
 * dead server is), or the TCP port is in use.
 *
 * @example One daemon at a time
 * ```ts ignore
 * import { IpcAddressInUseError, listenIpc } from "@tether/ipc";
 *
 * try {
 *   await using listener = await listenIpc({ path: "/run/user/1000/app/app.sock" });
 *   for await (const client of listener) client.close();
 * } catch (error) {
 *   if (error instanceof IpcAddressInUseError) console.error("already running");
 *   else throw error;
 * }
 * ```
 */
export class IpcAddressInUseError extends IpcError {}
