// Children the parent did not write in Deno (Node.js, Bun, Python), Deno
// children using Node's API, Node's "advanced" serialization, and validated
// messages — all with real processes.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { z } from "zod";
import {
  IpcMessageTooLargeError,
  IpcProtocolError,
  IpcValidationError,
  spawnWithIpc,
} from "../../mod.ts";
import { collect, fixture, spawnFixture, within } from "../helpers.ts";

const examplePython =
  new URL("../../examples/python_child.py", import.meta.url).pathname;

/** The values every advanced-mode peer must carry intact. */
function advancedValues(): unknown[] {
  const cyclic: Record<string, unknown> = { name: "cycle" };
  cyclic.self = cyclic;
  return [
    new Uint8Array([0, 1, 2, 255]),
    Buffer.from("a Buffer"),
    new Float64Array([Math.PI, -0.5]),
    new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
    new Date("2026-11-21T12:00:00Z"),
    new Map<unknown, unknown>([["key", { nested: [1, 2] }], [
      3,
      new Set(["x"]),
    ]]),
    new Set([1, "two", null]),
    123456789012345678901234567890n,
    /^tether\d+$/gm,
    { text: "plain", missing: undefined, list: [1, undefined, 3] },
    cyclic,
  ];
}

function assertAdvancedEqual(actual: unknown, expected: unknown): void {
  if (expected instanceof RegExp) {
    assert.ok(actual instanceof RegExp);
    assert.equal(String(actual), String(expected));
  } else if (Buffer.isBuffer(expected)) {
    // A Buffer arrives as a Buffer in Node and as a Uint8Array view in Deno: the bytes matter.
    assert.ok(actual instanceof Uint8Array);
    assert.deepEqual([...actual], [...expected]);
  } else {
    assert.deepEqual(actual, expected);
  }
  if (expected !== null && typeof expected === "object" && "self" in expected) {
    const object = actual as Record<string, unknown>;
    assert.equal(object.self, object, "the cycle is a cycle again");
  }
}

async function talkToNodeStyleChild(
  command: string,
  args: string[],
  runtime: string,
): Promise<void> {
  await using child = spawnWithIpc(command, { args, nodeCompat: true });
  const ready = await within(
    child.ipc.receive(),
    `${runtime}'s first message`,
  ) as { ready: string };
  assert.equal(ready.ready, runtime);
  for (const value of [{ list: [1, "é", null] }, "text", 42]) {
    await child.ipc.send(value);
    assert.deepEqual(await within(child.ipc.receive(), "the echo"), {
      echo: value,
    });
  }
  await child.ipc.send("bye"); // the child calls process.disconnect()
  const { messages, error } = await within(
    collect(child.ipc),
    "the channel to end",
  );
  assert.deepEqual([messages, error], [[], undefined]);
  assert.deepEqual(await child.status, {
    success: true,
    code: 0,
    signal: null,
  });
}

Deno.test("an unmodified Node.js child using process.send() talks to the parent (json)", async () => {
  await talkToNodeStyleChild("node", [fixture("node_child.cjs")], "node");
});

Deno.test("an unmodified Bun child using process.send() talks to the parent (json)", async () => {
  await talkToNodeStyleChild("bun", [fixture("node_child.cjs")], "bun");
});

Deno.test("a Deno child using node:process's process.send() talks to the parent", async () => {
  await using child = spawnFixture("deno_process_child.ts", [], {
    nodeCompat: true,
  });
  assert.equal(
    (await within(child.ipc.receive(), "ready") as { ready: string }).ready,
    "deno",
  );
  await child.ipc.send({ a: 1 });
  assert.deepEqual(await within(child.ipc.receive(), "the echo"), {
    echo: { a: 1 },
  });
  await child.ipc.send("bye");
  await within(collect(child.ipc), "the channel to end");
  assert.equal((await child.status).code, 0);
});

Deno.test("a Deno child started with nodeCompat can still call connectParentIpc()", async () => {
  await using child = spawnFixture("echo_child.ts", [], { nodeCompat: true });
  for (let i = 0; i < 100; i++) await child.ipc.send({ i });
  for (let i = 0; i < 100; i++) {
    assert.deepEqual(await within(child.ipc.receive(), "the echo"), {
      echo: { i },
    });
  }
  await child.ipc.close();
  assert.equal((await child.status).code, 0);
});

Deno.test("Node's internal NODE_* messages do not reach the iterator", async () => {
  await using child = spawnWithIpc("node", {
    args: [fixture("node_internal_child.cjs")],
    nodeCompat: true,
  });
  const { messages, error } = await within(collect(child.ipc), "the messages");
  assert.deepEqual([messages, error], [
    ["after the internal message"],
    undefined,
  ]);
});

Deno.test("the Python example child speaks the channel with its standard library", async () => {
  await using child = spawnWithIpc("python3", { args: [examplePython] });
  await child.ipc.send({ op: "add", a: 2, b: 40 });
  assert.deepEqual(await within(child.ipc.receive(), "the sum"), { sum: 42 });
  for (const value of [{ nested: [1, "é😀"] }, "text", null]) {
    await child.ipc.send(value);
    assert.deepEqual(await within(child.ipc.receive(), "the echo"), {
      echo: value,
    });
  }
  await child.ipc.close();
  assert.equal((await within(child.status, "python to exit")).code, 0);
});

Deno.test("advanced serialization: every type round-trips through a Deno child", async () => {
  await using child = spawnFixture("advanced_echo_child.ts", [], {
    serialization: "advanced",
  });
  for (const value of advancedValues()) {
    await child.ipc.send(value);
    assertAdvancedEqual(await within(child.ipc.receive(), "the echo"), value);
  }
  const error = new TypeError("carried across");
  await child.ipc.send(error);
  const back = await child.ipc.receive();
  assert.ok(back instanceof TypeError);
  assert.equal((back as Error).message, "carried across");
});

Deno.test("advanced serialization: every type round-trips through an unmodified Node child", async () => {
  await using child = spawnWithIpc("node", {
    args: [fixture("node_child.cjs")],
    nodeCompat: true,
    serialization: "advanced",
  });
  assert.deepEqual(await within(child.ipc.receive(), "ready"), {
    ready: "node",
    pid: child.pid,
  });
  for (const value of advancedValues()) {
    await child.ipc.send(value);
    const { echo } = await within(child.ipc.receive(), "the echo") as {
      echo: unknown;
    };
    assertAdvancedEqual(echo, value);
  }
  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
  await child.ipc.send(big);
  const { echo } = await within(child.ipc.receive(), "the big echo") as {
    echo: Uint8Array;
  };
  assert.equal(echo.length, big.length);
  assert.ok(echo.every((byte, i) => byte === i % 251));
  await child.ipc.send("bye");
  assert.equal((await child.status).code, 0);
});

Deno.test("advanced serialization: a 64 MiB Uint8Array makes the round trip intact", async () => {
  await using child = spawnFixture("advanced_echo_child.ts", [], {
    serialization: "advanced",
  });
  const bytes = new Uint8Array(64 * 1024 * 1024);
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) % 256;
  await child.ipc.send(bytes);
  const back = await within(
    child.ipc.receive(),
    "the 64 MiB echo",
    60_000,
  ) as Uint8Array;
  assert.ok(back instanceof Uint8Array);
  assert.equal(back.length, bytes.length);
  for (let i = 0; i < bytes.length; i += 4096) {
    assert.equal(back[i], (i / 4096) % 256);
  }
});

Deno.test("advanced serialization: a corrupt frame is reported after the messages before it", async () => {
  await using child = spawnFixture(
    "raw_writer_child.ts",
    ["advanced-corrupt"],
    { serialization: "advanced" },
  );
  const { messages, error } = await within(collect(child.ipc), "the messages");
  assert.deepEqual(messages, [{ n: 1 }]);
  assert.ok(error instanceof IpcProtocolError);
  assert.match(error.message, /Corrupt IPC message #1/);
  assert.equal(error.excerpt, "de ad be ef");
});

Deno.test("advanced serialization: a truncated frame is reported after the messages before it", async () => {
  await using child = spawnFixture("raw_writer_child.ts", [
    "advanced-truncated",
  ], { serialization: "advanced" });
  const { messages, error } = await within(collect(child.ipc), "the messages");
  assert.deepEqual(messages, [{ n: 1 }]);
  assert.ok(error instanceof IpcProtocolError);
  assert.equal(error.truncated, true);
});

Deno.test("advanced serialization: an oversized frame is refused when sending and when receiving", async () => {
  await using child = spawnFixture("advanced_echo_child.ts", [], {
    serialization: "advanced",
    maxMessageBytes: 1024,
  });
  await assert.rejects(
    child.ipc.send(new Uint8Array(2048)),
    IpcMessageTooLargeError,
  );
  await child.ipc.send(new Uint8Array(100));
  assert.equal(
    (await within(child.ipc.receive(), "the echo") as Uint8Array).length,
    100,
  );

  await using writer = spawnFixture("raw_writer_child.ts", [
    "advanced-oversized",
  ], {
    serialization: "advanced",
    maxMessageBytes: 1024,
  });
  const { messages, error } = await within(collect(writer.ipc), "the messages");
  assert.deepEqual(messages, [{ n: 1 }]);
  assert.ok(error instanceof IpcMessageTooLargeError);
  assert.ok(error.size > 1024);
});

const Reading = z.object({ sensor: z.string(), value: z.number() });

Deno.test("a schema object validates messages: valid ones pass, an invalid one throws in its place", async () => {
  await using child = spawnFixture("echo_child.ts", [], {
    validate: z.object({ echo: Reading }),
  });
  await child.ipc.send({ sensor: "t1", value: 21.5 });
  await child.ipc.send({ sensor: "t2", value: "hot" });
  await child.ipc.send({ sensor: "t3", value: 19 });
  assert.deepEqual(await child.ipc.receive(), {
    echo: { sensor: "t1", value: 21.5 },
  });
  const error = await child.ipc.receive().catch((e) => e);
  assert.ok(error instanceof IpcValidationError);
  assert.equal(error.messageIndex, 1);
  assert.deepEqual(error.value, { echo: { sensor: "t2", value: "hot" } });
  assert.deepEqual(error.issues.map((issue) => issue.path), [[
    "echo",
    "value",
  ]]);
  assert.match(error.message, /echo\.value: Expected number, received string/);
  // The channel stays open: the next message arrives.
  assert.deepEqual(await child.ipc.receive(), {
    echo: { sensor: "t3", value: 19 },
  });
});

Deno.test("a schema's output is what the iterator yields (defaults, transforms)", async () => {
  await using child = spawnFixture("echo_child.ts", [], {
    validate: z.object({ echo: z.object({ n: z.number().default(7) }) })
      .transform((m) => m.echo.n * 2),
  });
  await child.ipc.send({});
  await child.ipc.send({ n: 1 });
  assert.equal(await child.ipc.receive(), 14);
  assert.equal(await child.ipc.receive(), 2);
});

Deno.test("with onInvalidMessage a function, invalid messages are skipped and reported", async () => {
  const reported: IpcValidationError[] = [];
  await using child = spawnFixture("echo_child.ts", [], {
    validate: (message: unknown) =>
      typeof (message as { echo?: unknown }).echo === "number",
    onInvalidMessage: (error) => reported.push(error),
  });
  for (const value of [1, "two", 3, { four: 4 }, 5]) {
    await child.ipc.send(value);
  }
  const messages = [];
  for (let i = 0; i < 3; i++) {
    messages.push(await within(child.ipc.receive(), "an echo"));
  }
  assert.deepEqual(messages, [{ echo: 1 }, { echo: 3 }, { echo: 5 }]);
  assert.deepEqual(reported.map((e) => [e.messageIndex, e.value]), [[1, {
    echo: "two",
  }], [3, { echo: { four: 4 } }]]);
});
