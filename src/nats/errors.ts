/**
 * The errors of calls over NATS:
 *
 * ```text
 * IpcError
 * └── IpcNoRespondersError   no worker serves the method (NATS answered "no responders")
 * ```
 *
 * The other errors of calls over NATS are those of calls over a channel:
 * `IpcTimeoutError`, `IpcRemoteError`, `IpcClosedError`,
 * `IpcMessageTooLargeError`.
 *
 * @module
 */

import { IpcError } from "../channel/errors.ts";

/**
 * No worker serves the method called: the NATS server answered at once that
 * nothing listens on the method's subject. It comes fast, not after the
 * call's timeout. The call was not handled anywhere.
 *
 * @example Tell "nobody serves this" from a slow worker
 * ```ts ignore
 * import { connectNatsCalls, IpcNoRespondersError } from "@tether/ipc/nats";
 *
 * await using calls = await connectNatsCalls({ servers: "nats://127.0.0.1:4222", service: "math" });
 * try {
 *   await calls.request("fib", { n: 20 });
 * } catch (error) {
 *   if (error instanceof IpcNoRespondersError) console.error(`start a worker for ${error.subject}`);
 *   else throw error;
 * }
 * ```
 */
export class IpcNoRespondersError extends IpcError {
  /** The method that was called. */
  readonly method: string;
  /** The NATS subject nothing listens on. */
  readonly subject: string;

  /**
   * Creates the error.
   *
   * @param method The method called.
   * @param subject The subject the call was sent to.
   */
  constructor(method: string, subject: string) {
    super(
      `No worker serves "${method}": nothing listens on the NATS subject "${subject}". ` +
        `Start a worker with serveNatsCalls() for this service and method, ` +
        `or check the service's name and the method's spelling.`,
    );
    this.method = method;
    this.subject = subject;
  }
}
