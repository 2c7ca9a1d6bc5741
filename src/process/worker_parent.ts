/**
 * The worker's side of a Web Worker channel: what `connectParentIpc()` uses
 * when it runs inside a worker started by `spawnWorkerWithIpc()`.
 *
 * @module
 */

import { IpcJsonStream } from "../channel/ipc_json_stream.ts";
import {
  checkStreamOptions,
  type IpcJsonStreamOptions,
} from "../channel/options.ts";
import {
  type WorkerPort,
  WorkerPortTransport,
} from "../transports/worker_port.ts";

/** The global scope of a worker, as far as it is used here. */
interface WorkerScope extends WorkerPort {
  close(): void;
}

/** `true` when this code runs inside a Web Worker. */
export function inWorker(): boolean {
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
export function workerParentChannel<In>(
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
