/**
 * The child of the graceful-cancel demo: works in steps, reporting each,
 * until its parent cancels; then it finishes the step, says why it stopped,
 * and exits by itself. Started with `stubborn`, it ignores the cancel and
 * `SIGTERM`, so the parent has to use `SIGKILL`. Needs no permissions.
 *
 * @module
 */

import { connectParentIpc, getCancelSignal } from "@tether/ipc";

/** What this child tells its parent. */
export type WorkerMessage =
  | { step: number }
  | { stopped: string; after: number };

const stubborn = Deno.args[0] === "stubborn";
const parent = connectParentIpc<never, WorkerMessage>();
const signal = getCancelSignal();
if (stubborn) Deno.addSignalListener("SIGTERM", () => {});

let step = 0;
while (stubborn || !signal.aborted) {
  await new Promise((resolve) => setTimeout(resolve, 50)); // one step of work
  await parent.send({ step: ++step });
}
// Cancelled: the last step is done; clean up, say why, and exit.
const reason = signal.reason instanceof Error
  ? signal.reason.message
  : String(signal.reason);
await parent.send({ stopped: reason, after: step });
await parent.close();
