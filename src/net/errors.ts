/**
 * The errors of channels between unrelated processes (`listenIpc()` and
 * `connectIpc()`):
 *
 * ```text
 * IpcError
 * ├── IpcHandshakeError             the opening handshake failed
 * │   ├── IpcAuthenticationError    the keys differ, or one side has none
 * │   ├── IpcHandshakeTimeoutError  the handshake took too long
 * │   └── IpcHandshakeDroppedError  dropped for newer ones (too many at once)
 * ├── IpcConnectionRefusedError     nothing listens there, or it is full (busy)
 * ├── IpcAddressInUseError          the path or port is taken
 * └── IpcInsecureSetupError         the setup would be unsafe
 * ```
 *
 * @module
 */

import { IpcError } from "../channel/errors.ts";

/**
 * Which limit made a listener drop a handshake: see
 * {@linkcode IpcHandshakeDroppedError}.
 *
 * @example
 * ```ts
 * import type { IpcHandshakeLimit } from "@tether/ipc";
 *
 * const limit: IpcHandshakeLimit = "maxPendingHandshakesPerAddress";
 * ```
 */
export type IpcHandshakeLimit =
  | "maxPendingHandshakes"
  | "maxPendingHandshakesPerAddress";
/**
 * The opening handshake of a connection failed: the peer sent bytes that are
 * not this library's handshake, closed the connection in the middle of it,
 * or the TLS handshake failed. Nothing the peer sent was delivered.
 *
 * The more specific {@linkcode IpcAuthenticationError} and
 * {@linkcode IpcHandshakeTimeoutError} extend it.
 *
 * @example Tell a failed handshake from other errors
 * ```ts ignore
 * import { connectIpc, IpcHandshakeError } from "@tether/ipc";
 *
 * try {
 *   await connectIpc({ path: "/run/user/1000/app/app.sock" });
 * } catch (error) {
 *   if (error instanceof IpcHandshakeError) console.error("not our daemon:", error.message);
 *   else throw error;
 * }
 * ```
 */
export class IpcHandshakeError extends IpcError {}

/**
 * Authentication failed: the two sides do not hold the same `authKey`, one
 * side has a key and the other none, or the peer could not prove that it
 * knows the key. The connection is closed on both sides and nothing the peer
 * sent was delivered.
 *
 * @example Report a wrong key
 * ```ts ignore
 * import { connectIpc, IpcAuthenticationError } from "@tether/ipc";
 *
 * try {
 *   await connectIpc({ port: 7000, authKey: "not the daemon's key, 16+ bytes" });
 * } catch (error) {
 *   if (error instanceof IpcAuthenticationError) console.error(error.message);
 *   else throw error;
 * }
 * ```
 */
export class IpcAuthenticationError extends IpcHandshakeError {}

/**
 * The handshake did not finish within `handshakeTimeout` milliseconds: the
 * peer stalled (a slow or hostile client holding a connection open), or the
 * network is too slow for the limit. The connection is closed.
 *
 * @example A larger limit for a slow link
 * ```ts ignore
 * import { connectIpc, IpcHandshakeTimeoutError } from "@tether/ipc";
 *
 * const authKey = Deno.readFileSync("/etc/app/ipc.key");
 * const ipc = await connectIpc({ hostname: "daemon.example", port: 7000, authKey, handshakeTimeout: 5_000 })
 *   .catch((error) => {
 *     if (!(error instanceof IpcHandshakeTimeoutError)) throw error;
 *     return connectIpc({ hostname: "daemon.example", port: 7000, authKey, handshakeTimeout: 30_000 });
 *   });
 * await ipc.close();
 * ```
 */
export class IpcHandshakeTimeoutError extends IpcHandshakeError {
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * Creates the error.
   *
   * @param message What happened and what to do about it.
   * @param timeoutMs The limit that was exceeded, in milliseconds.
   */
  constructor(message: string, timeoutMs: number) {
    super(message);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A listener dropped a connection in the middle of its handshake to make room
 * for a newer one: `maxPendingHandshakes` connections were in their handshake
 * at once (or `maxPendingHandshakesPerAddress` from one address), and this
 * was the one that had waited longest. Reported to `onError`; many of them
 * mean a flood of stalled or slow connections, or a limit too low for the
 * clients' bursts.
 *
 * @example Count the drops, to notice a flood
 * ```ts ignore
 * import { IpcHandshakeDroppedError, listenIpc } from "@tether/ipc";
 *
 * let drops = 0;
 * const listener = await listenIpc({
 *   path: "/run/user/1000/app/app.sock",
 *   onError: (error) => {
 *     if (error instanceof IpcHandshakeDroppedError) drops++;
 *   },
 * });
 * ```
 */
export class IpcHandshakeDroppedError extends IpcHandshakeError {
  /** The limit that was reached. */
  readonly limit: IpcHandshakeLimit;

  /**
   * Creates the error.
   *
   * @param message What happened and what to do about it.
   * @param limit The limit that was reached.
   */
  constructor(message: string, limit: IpcHandshakeLimit) {
    super(message);
    this.limit = limit;
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

/**
 * The options would make an unsafe channel, so nothing was opened: TCP
 * without `authKey` (pass one, or `insecure: true` to accept anyone), an
 * `authKey` shorter than 16 bytes, or a Unix socket directory that other
 * users can enter or that belongs to someone else.
 *
 * @example TCP needs a key
 * ```ts
 * import { IpcInsecureSetupError, listenIpc } from "@tether/ipc";
 *
 * const error = await listenIpc({ port: 0 }).catch((error) => error);
 * console.log(error instanceof IpcInsecureSetupError); // true
 * ```
 */
export class IpcInsecureSetupError extends IpcError {}
