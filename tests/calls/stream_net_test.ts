// Streaming calls on a channel from listenIpc()/connectIpc(), over a real
// Unix socket: items, cancellation reaching the server's generator, and the
// server hanging up mid-stream.
import assert from "node:assert/strict";
import {
  connectIpc,
  type IpcCallContext,
  IpcClosedError,
  listenIpc,
} from "../../mod.ts";
import { within } from "../helpers.ts";

Deno.test("streams over listenIpc()/connectIpc(): items, break reaching the server's generator, the server hanging up", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/streams.sock`;
  const authKey = "a shared secret of 16 bytes or more";
  const stopped = Promise.withResolvers<string>();
  const handlers = {
    async *count(n: number) {
      for (let i = 0; i < n; i++) yield i;
    },
    async *forever(_: undefined, { signal }: IpcCallContext) {
      try {
        for (let i = 0;; i++) yield i;
      } finally {
        stopped.resolve((signal.reason as Error).name);
      }
    },
  };
  try {
    await using listener = await listenIpc({ path, authKey });
    const served = (async () => {
      for await (const client of listener) {
        client.handle("count", handlers.count);
        client.handle("forever", handlers.forever);
        client.handle("hangUp", async function* () {
          yield "bye";
          setTimeout(() => client.close(), 0);
          await new Promise(() => {});
        });
      }
    })();
    {
      await using server = await connectIpc({ path, authKey });
      const api = server.remote<
        typeof handlers & { hangUp: () => AsyncGenerator<string> }
      >();
      let sum = 0;
      for await (const i of api.count(1000, { highWaterMark: 8 })) sum += i;
      assert.equal(sum, 499500);
      for await (const i of api.forever()) if (i === 20) break;
      assert.equal(
        await within(stopped.promise, "the server's finally"),
        "IpcCancelledError",
      );
      const seen: string[] = [];
      const error = await within(
        (async () => {
          for await (const item of api.hangUp()) seen.push(item);
        })().catch((error) => error),
        "the loop to end",
      );
      assert.deepEqual(seen, ["bye"]);
      assert.ok(error instanceof IpcClosedError, String(error));
      assert.match(error.message, /the peer closed it/);
    }
    await listener.close();
    await within(served, "the server loop");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
