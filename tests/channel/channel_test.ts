// The channel between a real parent and a real Deno child: round trips,
// ordering, large messages, chunk boundaries and backpressure.
import assert from "node:assert/strict";
import {
  collect,
  residentBytes,
  sleep,
  spawnFixture,
  waitUntil,
  within,
} from "../helpers.ts";

Deno.test("a parent and a child exchange every JSON shape", async () => {
  await using child = spawnFixture("echo_child.ts");
  const values = [
    null,
    true,
    false,
    0,
    -1,
    3.14159,
    1e-300,
    Number.MAX_SAFE_INTEGER,
    "",
    "plain",
    "multi-byte: é ✓ 😀 𝄞 \u2028\u2029",
    'control \u0000\u0001\n\t"\\',
    [],
    {},
    [1, "two", [3, [4, null]], { five: 5 }],
    {
      nested: { deeply: { array: [true, false], empty: {} } },
      "key with spaces": 1,
      "ключ": "значение",
    },
  ];
  for (const value of values) {
    await child.ipc.send(value);
    assert.deepEqual(await within(child.ipc.receive(), "the echo"), {
      echo: value,
    });
  }
  await child.ipc.close();
  assert.deepEqual(await within(child.status, "the child to exit"), {
    success: true,
    code: 0,
    signal: null,
  });
});

Deno.test("thousands of messages arrive in order in both directions at once", async () => {
  const count = 20_000;
  await using child = spawnFixture<
    { i: number } | { sum: number; received: number; inOrder: boolean },
    { i: number }
  >(
    "counter_child.ts",
    [String(count), "16"],
  );
  const sending = (async () => {
    for (let i = 0; i < count; i++) await child.ipc.send({ i });
  })();
  let expected = 0;
  let summary: unknown;
  for await (const message of child.ipc) {
    if ("i" in message) {
      assert.equal(
        message.i,
        expected++,
        "messages from the child arrive in order",
      );
    } else {
      summary = message;
    }
  }
  await within(sending, "the parent's sends");
  assert.equal(expected, count);
  assert.deepEqual(summary, {
    sum: (count * (count - 1)) / 2,
    received: count,
    inOrder: true,
  });
  assert.equal((await child.status).code, 0);
});

Deno.test("messages of 16 MiB and more cross in both directions intact", async () => {
  const toChild = "a€".repeat(6 * 1024 * 1024); // 24 MiB of UTF-8
  const fromChild = 16 * 1024 * 1024;
  await using child = spawnFixture("big_child.ts", [String(fromChild)]);
  await child.ipc.send(toChild);
  const big = await within(child.ipc.receive(), "the 16 MiB message");
  assert.equal(typeof big, "string");
  assert.equal((big as string).length, fromChild);
  assert.ok(/^z+$/.test(big as string));
  assert.deepEqual(await child.ipc.receive(), {
    receivedLength: toChild.length,
  });
  assert.equal((await child.status).code, 0);
});

Deno.test("a 64 MiB message arrives with the default limit", async () => {
  const size = 64 * 1024 * 1024;
  await using child = spawnFixture("big_child.ts", [String(size)]);
  await child.ipc.send("go");
  const big = await within(child.ipc.receive(), "the 64 MiB message", 60_000);
  assert.equal((big as string).length, size);
  assert.deepEqual(await child.ipc.receive(), { receivedLength: 2 });
});

Deno.test("a child writing one byte at a time, splitting UTF-8 characters, is read intact", async () => {
  await using child = spawnFixture("raw_writer_child.ts", ["bytewise"]);
  const { messages, error } = await within(
    collect(child.ipc),
    "the byte-wise messages",
  );
  assert.equal(error, undefined);
  assert.deepEqual(messages, [
    { text: "héllo wörld ✓ 😀" },
    ["𝄞", "€", 1],
    "last",
  ]);
});

Deno.test("a child that never reads makes the parent's send() wait instead of buffering", async () => {
  await using child = spawnFixture("stalled_reader_child.ts", [], {
    sendBufferBytes: 1024 * 1024,
  });
  const payload = "s".repeat(64 * 1024);
  const parentBase = residentBytes(Deno.pid);
  const childBase = residentBytes(child.pid);
  let sentBytes = 0;
  let stalled = false;
  while (sentBytes < 256 * 1024 * 1024) {
    const sent = child.ipc.send(payload);
    const settled = await Promise.race([
      sent.then(() => true),
      sleep(500).then(() => false),
    ]);
    if (!settled) {
      stalled = true;
      break;
    }
    sentBytes += payload.length + 3;
  }
  // Neither process grew by anything like the 256 MiB the parent tried to
  // send: by less than half of it, whatever else moves meanwhile.
  const MiB = 1024 * 1024;
  const childGrowth = (residentBytes(child.pid) - childBase) / MiB;
  const parentGrowth = (residentBytes(Deno.pid) - parentBase) / MiB;
  console.log(
    `grew by: child ${childGrowth.toFixed(1)} MiB, parent ${
      parentGrowth.toFixed(1)
    } MiB`,
  );
  assert.ok(childGrowth < 128, `the child grew by ${childGrowth} MiB`);
  assert.ok(parentGrowth < 128, `the parent grew by ${parentGrowth} MiB`);
  assert.ok(stalled, `send() never waited after ${sentBytes} bytes`);
  // The parent's send buffer (1 MiB), the two socket buffers and the child's
  // receive buffer (1 MiB) hold what was sent: a few MiB, not hundreds.
  assert.ok(
    sentBytes < 16 * 1024 * 1024,
    `${sentBytes} bytes were accepted before send() waited`,
  );
});

Deno.test("a parent that does not read makes the child's send() wait, and nothing is lost", async () => {
  const count = 2000;
  const size = 16 * 1024;
  await using child = spawnFixture("flood_child.ts", [
    String(count),
    String(size),
  ], { stdout: "piped" });
  const progress = { resolved: 0 };
  const reading = (async () => {
    let text = "";
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      text += chunk;
      const lines = text.split("\n");
      text = lines.pop()!;
      if (lines.length > 0) progress.resolved = Number(lines[lines.length - 1]);
    }
  })();
  await waitUntil(() => progress.resolved > 0, "the child to start sending");
  let last = -1;
  for (let i = 0; i < 5; i++) {
    await sleep(200);
    if (progress.resolved === last) break;
    last = progress.resolved;
  }
  const stalledAt = progress.resolved;
  assert.ok(
    stalledAt < count / 2,
    `the child's sends kept resolving (${stalledAt} of ${count}) while the parent read nothing`,
  );
  let expected = 0;
  for await (const message of child.ipc) {
    assert.equal((message as { i: number }).i, expected++);
  }
  assert.equal(expected, count, "every message arrives once the parent reads");
  await within(reading, "the child's stdout");
  assert.equal(progress.resolved, count);
});
