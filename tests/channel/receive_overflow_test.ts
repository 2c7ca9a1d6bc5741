// Answers and unread plain messages with real processes: a child streaming
// 200,000 plain messages while the parent calls it. With receiveOverflow
// "drop" answers never wait; with "pause" (the default) nothing is lost,
// and a call that times out behind unread messages says so.
import assert from "node:assert/strict";
import { IpcTimeoutError } from "../../mod.ts";
import { DEFAULT_RECEIVE_BUFFER_BYTES } from "../../src/channel/options.ts";
import { spawnFixture, waitUntil, within } from "../helpers.ts";

const COUNT = 200_000;

Deno.test('receiveOverflow "drop": a child streaming 200,000 plain messages nobody reads, and calls on it keep being answered', async () => {
  await using child = spawnFixture("chatty_worker.ts", [], {
    receiveOverflow: "drop",
  });
  const streaming = child.ipc.request<number>("chatter", { count: COUNT });
  for (let i = 0; i < 50; i++) {
    assert.equal(
      await within(child.ipc.request("pid"), `call ${i}`),
      child.pid,
    );
  }
  assert.equal(await within(streaming, "the streaming call"), COUNT);
  const { messagesDropped } = child.ipc.stats();
  assert.ok(messagesDropped > 0, "some were dropped");
  // What was kept is the first messages, in order; the rest were counted.
  const kept = COUNT - messagesDropped;
  for (let i = 0; i < kept; i++) {
    assert.deepEqual(await within(child.ipc.receive(), "a kept message"), {
      i,
    });
  }
  assert.equal(
    await within(child.ipc.request("pid"), "a later call"),
    child.pid,
  );
});

Deno.test('receiveOverflow "pause" (the default): while the parent reads, all 200,000 arrive in order and calls keep being answered', async () => {
  await using child = spawnFixture("chatty_worker.ts");
  let next = 0;
  const reading = (async () => {
    for await (const message of child.ipc) {
      assert.deepEqual(message, { i: next });
      if (++next === COUNT) return;
    }
  })();
  const streaming = child.ipc.request<number>("chatter", { count: COUNT });
  for (let i = 0; i < 50; i++) {
    await within(child.ipc.request("pid"), `call ${i}`);
  }
  assert.equal(await within(streaming, "the streaming call"), COUNT);
  await within(reading, "every message");
  assert.equal(child.ipc.stats().messagesDropped, 0);
});

Deno.test('receiveOverflow "pause": a call that times out behind unread plain messages says so; reading them lets answers through again', async () => {
  await using child = spawnFixture("chatty_worker.ts");
  const streaming = child.ipc.request<number>("chatter", { count: COUNT });
  streaming.catch(() => {}); // awaited below; a failed assertion must not leave it dangling
  // Nobody reads: the receive buffer fills and reading pauses.
  await waitUntil(
    () => child.ipc.stats().bytesIn > DEFAULT_RECEIVE_BUFFER_BYTES,
    "the receive buffer to fill",
  );
  const error = await within(
    child.ipc.request("pid", undefined, { timeout: 2000 }).catch((e) => e),
    "the timeout",
  );
  assert.ok(error instanceof IpcTimeoutError);
  assert.equal(error.receiveBufferFull, true);
  assert.match(error.message, /plain messages lay unread/);
  assert.match(error.message, /receiveOverflow: "drop"/);
  let next = 0;
  for await (const message of child.ipc) {
    assert.deepEqual(message, { i: next }, "nothing lost");
    if (++next === COUNT) break;
  }
  assert.equal(await within(streaming, "the streaming call"), COUNT);
  assert.equal(await within(child.ipc.request("pid"), "a call"), child.pid);
});

Deno.test("a timeout with the receive buffer not full keeps the usual advice", async () => {
  await using child = spawnFixture("chatty_worker.ts");
  const error = await child.ipc.request("sleep", 60_000, { timeout: 100 })
    .catch((e) => e);
  assert.ok(error instanceof IpcTimeoutError);
  assert.equal(error.receiveBufferFull, false);
  assert.match(error.message, /make the handler faster/);
});
