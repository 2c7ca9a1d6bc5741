// maxConcurrentCalls on a listener's channels: an authenticated client
// flooding calls gets at most the limit running at once in the daemon.
import assert from "node:assert/strict";
import { connectIpc, listenIpc } from "../../mod.ts";
import { within } from "../helpers.ts";
import { AUTH_KEY, tempSocket } from "../net_helpers.ts";

Deno.test("a client of listenIpc() flooding calls gets at most maxConcurrentCalls running in the daemon, every call answered", async () => {
  using socket = tempSocket();
  const listener = await listenIpc({
    path: socket.path,
    authKey: AUTH_KEY,
    maxConcurrentCalls: 8,
  });
  let running = 0;
  let maxRunning = 0;
  const served = (async () => {
    for await (const channel of listener) {
      channel.handle("work", async (i: number) => {
        maxRunning = Math.max(maxRunning, ++running);
        await new Promise((resolve) => setTimeout(resolve, 1));
        running--;
        return i;
      });
    }
  })();
  const client = await connectIpc({ path: socket.path, authKey: AUTH_KEY });
  const answers = await within(
    Promise.all(
      Array.from({ length: 3000 }, (_, i) => client.request("work", i)),
    ),
    "the calls",
  );
  assert.deepEqual(answers, Array.from({ length: 3000 }, (_, i) => i));
  assert.equal(maxRunning, 8);
  await client.close();
  await listener.close();
  await served;
});
