// Hostile or broken input from a real child, and bad values given to send():
// a clear error, and nothing before it lost.
import assert from "node:assert/strict";
import {
  IpcClosedError,
  IpcMessageTooLargeError,
  IpcProtocolError,
} from "../../mod.ts";
import { collect, spawnFixture, within } from "../helpers.ts";

Deno.test("a line that is not JSON: earlier messages arrive, then IpcProtocolError says where", async () => {
  await using child = spawnFixture("raw_writer_child.ts", ["invalid-json"]);
  const { messages, error } = await within(collect(child.ipc), "the messages");
  assert.deepEqual(messages, [{ n: 1 }, { n: 2 }]);
  assert.ok(error instanceof IpcProtocolError, String(error));
  assert.equal(error.messageIndex, 2);
  assert.equal(error.byteOffset, 16);
  assert.equal(error.excerpt, "{this is not json}");
  assert.match(
    error.message,
    /Invalid JSON in IPC message #2 at byte offset 16/,
  );
  await within(child.status, "the child to exit");
});

Deno.test("invalid UTF-8: earlier messages arrive, then IpcProtocolError", async () => {
  await using child = spawnFixture("raw_writer_child.ts", ["invalid-utf8"]);
  const { messages, error } = await within(collect(child.ipc), "the messages");
  assert.deepEqual(messages, [{ n: 1 }]);
  assert.ok(error instanceof IpcProtocolError);
  assert.equal(error.byteOffset, 8);
  assert.match(error.message, /Invalid UTF-8/);
});

Deno.test("a child that exits in the middle of a message: earlier messages arrive, then a truncation error", async () => {
  await using child = spawnFixture("raw_writer_child.ts", ["truncated"]);
  const { messages, error } = await within(collect(child.ipc), "the messages");
  assert.deepEqual(messages, [{ n: 1 }, { n: 2 }]);
  assert.ok(error instanceof IpcProtocolError);
  assert.equal(error.truncated, true);
  assert.equal(error.messageIndex, 2);
  assert.equal(error.byteOffset, 16);
  assert.match(error.message, /ended in the middle of a message/);
});

Deno.test("a message over the parent's maxMessageBytes: earlier messages arrive, then IpcMessageTooLargeError", async () => {
  await using child = spawnFixture("raw_writer_child.ts", ["oversized"], {
    maxMessageBytes: 1024,
  });
  const { messages, error } = await within(collect(child.ipc), "the messages");
  assert.deepEqual(messages, [{ n: 1 }]);
  assert.ok(error instanceof IpcMessageTooLargeError, String(error));
  assert.equal(error.limit, 1024);
  assert.ok(error.size > 1024);
  // The channel is closed after the error; sending says so.
  await assert.rejects(child.ipc.send("more"), IpcClosedError);
});

Deno.test("send() refuses a message over maxMessageBytes before writing, and the channel stays usable", async () => {
  await using child = spawnFixture("echo_child.ts", [], {
    maxMessageBytes: 1000,
  });
  const error = await child.ipc.send("x".repeat(1000)).catch((e) => e);
  assert.ok(error instanceof IpcMessageTooLargeError);
  assert.equal(error.size, 1002);
  await child.ipc.send("small");
  assert.deepEqual(await within(child.ipc.receive(), "the echo"), {
    echo: "small",
  });
});

Deno.test("send() of values JSON cannot carry rejects with TypeError, writes nothing, and the channel stays usable", async () => {
  await using child = spawnFixture("echo_child.ts");
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  for (
    const value of [
      10n,
      { deep: [1n] },
      cyclic,
      undefined,
      () => {},
      Symbol("x"),
    ]
  ) {
    await assert.rejects(child.ipc.send(value), TypeError);
  }
  await child.ipc.send("after the bad values");
  // Had anything of the bad values been written, the echo would differ or the child would fail.
  assert.deepEqual(await within(child.ipc.receive(), "the echo"), {
    echo: "after the bad values",
  });
  await child.ipc.close();
  assert.equal((await child.status).code, 0);
});

Deno.test("send() after close() rejects with IpcClosedError", async () => {
  await using child = spawnFixture("echo_child.ts");
  await child.ipc.close();
  const error = await child.ipc.send(1).catch((e) => e);
  assert.ok(error instanceof IpcClosedError);
  assert.match(error.message, /close\(\) was called/);
  assert.equal((await child.status).code, 0);
});

Deno.test("send() after the child exited rejects with IpcClosedError", async () => {
  await using child = spawnFixture("crash_child.ts", ["exit", "0"]);
  await within(child.status, "the child to exit");
  await within(child.ipc.closed, "the channel to close");
  await assert.rejects(child.ipc.send(1), IpcClosedError);
});
