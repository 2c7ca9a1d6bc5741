/**
 * The child of the demo: answers every request on the channel its parent gave
 * it. It needs no permissions at all.
 *
 * Run by `parent.ts`; started on its own it explains that it has no parent.
 *
 * @module
 */

import { connectParentIpc, IpcChannelNotFoundError } from "@tether/ipc";

/** Messages the parent sends. */
type Request =
  | { op: "add"; a: number; b: number }
  | { op: "ping"; n: number }
  | { op: "bye" };
/** Messages this child sends back. */
type Reply = { sum: number } | { pong: number } | { ready: true; pid: number };

let parent;
try {
  parent = connectParentIpc<Request, Reply>();
} catch (error) {
  if (!(error instanceof IpcChannelNotFoundError)) throw error;
  console.error(
    "child.ts has no parent to talk to: run `deno task demo` instead.",
  );
  Deno.exit(1);
}

await parent.send({ ready: true, pid: Deno.pid });
for await (const request of parent) {
  switch (request.op) {
    case "add":
      await parent.send({ sum: request.a + request.b });
      break;
    case "ping":
      await parent.send({ pong: request.n });
      break;
    case "bye":
      await parent.close();
  }
}
