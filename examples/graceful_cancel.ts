/**
 * Graceful cancel: the parent asks a child to stop, the child finishes its
 * step and exits by itself; a child that ignores the request is stopped with
 * `SIGTERM`, then `SIGKILL`, after `killTimeout` each. `status` tells which.
 *
 * Run with `deno task demo:cancel`, or:
 *
 *     deno run --allow-run --allow-env examples/graceful_cancel.ts
 *
 * @module
 */

import { spawnWithIpc } from "@tether/ipc";
import type { WorkerMessage } from "./graceful_cancel_worker.ts";

const worker = new URL("./graceful_cancel_worker.ts", import.meta.url)
  .pathname;

for (const mode of ["polite", "stubborn"]) {
  const controller = new AbortController();
  // The child gets no permission flags, so it runs with none.
  await using child = spawnWithIpc<WorkerMessage>(Deno.execPath(), {
    args: ["run", worker, mode],
    signal: controller.signal,
    gracefulCancel: true,
    killTimeout: 500,
  });
  for await (const message of child.ipc) {
    if ("step" in message && message.step === 3) {
      console.log(`${mode} child ${child.pid}: 3 steps done, cancelling`);
      controller.abort(new Error("three steps are enough"));
    } else if ("stopped" in message) {
      console.log(
        `${mode} child: stopped after step ${message.after} ("${message.stopped}")`,
      );
    }
  }
  const { code, signal } = await child.status;
  console.log(
    `${mode} child ended: ${
      signal === null ? `exited with code ${code}` : `killed by ${signal}`
    }`,
  );
}
