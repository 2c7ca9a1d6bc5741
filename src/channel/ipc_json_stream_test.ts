import assert from "node:assert/strict";
import {
  IpcClosedError,
  IpcMessageTooLargeError,
  IpcProtocolError,
} from "../errors.ts";
import { CONTROLS, IpcJsonStream } from "./ipc_json_stream.ts";
import type { IpcJsonStreamOptions } from "./options.ts";
import type {
  IpcTransport,
  IpcTransportSink,
} from "../transports/transport.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Two streams connected back to back in this process. */
function pair(options?: IpcJsonStreamOptions): [IpcJsonStream, IpcJsonStream] {
  const aToB = new TransformStream<Uint8Array, Uint8Array>();
  const bToA = new TransformStream<Uint8Array, Uint8Array>();
  return [
    new IpcJsonStream(
      { readable: bToA.readable, writable: aToB.writable },
      options,
    ),
    new IpcJsonStream(
      { readable: aToB.readable, writable: bToA.writable },
      options,
    ),
  ];
}

/**
 * A stream whose output is recorded write by write, and whose input is
 * `input`, then end of input if `end`, else nothing more.
 */
function recorder(
  input: string[] = [],
  options?: IpcJsonStreamOptions,
  end = false,
) {
  const writes: string[] = [];
  const ipc = new IpcJsonStream({
    readable: new ReadableStream({
      start(controller) {
        for (const text of input) controller.enqueue(encoder.encode(text));
        if (end) controller.close();
      },
    }),
    writable: new WritableStream({
      write: (chunk) => void writes.push(decoder.decode(chunk)),
    }),
  }, options);
  return { ipc, writes };
}

Deno.test("IpcJsonStream carries every JSON shape both ways", async () => {
  const [a, b] = pair();
  const values = [
    null,
    true,
    false,
    0,
    -1.25,
    1e300,
    "",
    "é😀\n\u2028",
    [],
    {},
    [1, [2, { x: [3] }]],
    {
      nested: { a: null, b: [true, "s"] },
    },
  ];
  for (const value of values) await a.send(value);
  for (const value of values) assert.deepEqual(await b.receive(), value);
  for (const value of values) await b.send(value);
  for (const value of values) assert.deepEqual(await a.receive(), value);
  await a.close();
  await b.closed;
});

Deno.test("IpcJsonStream writes the messages sent in one burst in one write", async () => {
  const { ipc, writes } = recorder();
  for (let i = 0; i < 100; i++) ipc.send({ i });
  await ipc.close();
  assert.equal(writes.length, 1);
  assert.equal(
    writes[0],
    Array.from({ length: 100 }, (_, i) => `{"i":${i}}\n`).join(""),
  );
});

Deno.test("IpcJsonStream coalesces a loop that awaits each send", async () => {
  const { ipc, writes } = recorder();
  for (let i = 0; i < 100; i++) await ipc.send(i);
  await ipc.close();
  assert.ok(
    writes.length < 10,
    `${writes.length} writes for 100 awaited sends`,
  );
  assert.equal(
    writes.join(""),
    Array.from({ length: 100 }, (_, i) => `${i}\n`).join(""),
  );
});

Deno.test("IpcJsonStream.send rejects values JSON cannot carry, writes nothing, and stays usable", async () => {
  const { ipc, writes } = recorder();
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const bad: [string, unknown][] = [
    ["BigInt", 1n],
    ["nested BigInt", { n: [2n] }],
    ["a cycle", cyclic],
    ["undefined", undefined],
    ["a function", () => 1],
    ["a symbol", Symbol("s")],
  ];
  for (const [name, value] of bad) {
    await assert.rejects(ipc.send(value), TypeError, name);
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(writes, []);
  await ipc.send("still works");
  await ipc.close();
  assert.deepEqual(writes, ['"still works"\n']);
});

Deno.test("IpcJsonStream.send refuses a message over maxMessageBytes before writing a byte", async () => {
  const { ipc, writes } = recorder([], { maxMessageBytes: 64 });
  await ipc.send("x".repeat(62)); // 64 bytes with its quotes
  const error = await ipc.send("é".repeat(40)).catch((e) => e); // 82 bytes, 42 characters
  assert.ok(error instanceof IpcMessageTooLargeError);
  assert.equal(error.size, 82);
  assert.equal(error.limit, 64);
  await ipc.send(1);
  await ipc.close();
  assert.equal(writes.join(""), `"${"x".repeat(62)}"\n1\n`);
});

Deno.test("IpcJsonStream.send after close rejects with IpcClosedError", async () => {
  const { ipc } = recorder();
  await ipc.close();
  const error = await ipc.send(1).catch((e) => e);
  assert.ok(error instanceof IpcClosedError);
  assert.match(error.message, /close\(\) was called/);
});

Deno.test("IpcJsonStream delivers every message before bad input, then throws IpcProtocolError", async () => {
  const { ipc } = recorder(['{"a":1}\n{"b"', ":2}\n{bad}\n", '{"c":3}\n']);
  const seen: unknown[] = [];
  const error = await (async () => {
    for await (const message of ipc) seen.push(message);
  })().catch((e) => e);
  assert.deepEqual(seen, [{ a: 1 }, { b: 2 }]);
  assert.ok(error instanceof IpcProtocolError);
  assert.equal(error.messageIndex, 2);
  assert.equal(error.byteOffset, 16);
  // The channel is closed: sending explains why.
  const sendError = await ipc.send(1).catch((e) => e);
  assert.ok(sendError instanceof IpcClosedError);
  assert.match(sendError.message, /bad input/);
});

Deno.test("IpcJsonStream throws a truncation error when the input ends mid-message", async () => {
  const { ipc } = recorder(['1\n2\n{"unfinished":'], {}, true);
  const seen: unknown[] = [];
  const error = await (async () => {
    for await (const message of ipc) seen.push(message);
  })().catch((e) => e);
  assert.deepEqual(seen, [1, 2]);
  assert.ok(error instanceof IpcProtocolError);
  assert.equal(error.truncated, true);
});

Deno.test("IpcJsonStream iteration ends cleanly after the last message and receive() then throws", async () => {
  const { ipc } = recorder(["1\n", "2\n"], {}, true);
  const seen: unknown[] = [];
  for await (const message of ipc) seen.push(message);
  assert.deepEqual(seen, [1, 2]);
  await assert.rejects(ipc.receive(), IpcClosedError);
  await ipc.closed;
});

Deno.test("IpcJsonStream: leaving a for-await loop early keeps the channel open", async () => {
  const [a, b] = pair();
  for (let i = 0; i < 5; i++) await a.send(i);
  const first: unknown[] = [];
  for await (const message of b) {
    first.push(message);
    if (first.length === 2) break;
  }
  const rest: unknown[] = [];
  for await (const message of b) {
    rest.push(message);
    if (rest.length === 3) break;
  }
  assert.deepEqual([first, rest], [[0, 1], [2, 3, 4]]);
  await a.close();
  await b.closed;
});

Deno.test("IpcJsonStream.send waits once sendBufferBytes are queued and the peer does not read", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  let written = 0;
  const ipc = new IpcJsonStream({
    readable: new ReadableStream(),
    writable: new WritableStream({
      async write(chunk) {
        await released;
        written += chunk.length;
      },
    }, { highWaterMark: 1 }),
  }, { sendBufferBytes: 1000 });
  const message = "x".repeat(98); // 101 bytes on the wire
  let settled = 0;
  const sends: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) {
    const sent = ipc.send(message);
    sent.then(() => settled++);
    sends.push(sent);
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(
    settled,
    9,
    "sends within the 1000-byte buffer resolve; later ones wait",
  );
  release();
  await Promise.all(sends);
  await ipc.close();
  assert.equal(written, 20 * 101);
});

Deno.test("IpcJsonStream stops reading while received messages wait unconsumed", async () => {
  let pulls = 0;
  const line = encoder.encode(JSON.stringify("y".repeat(1000)) + "\n");
  const ipc = new IpcJsonStream({
    readable: new ReadableStream({
      pull(controller) {
        pulls++;
        controller.enqueue(line);
      },
    }, { highWaterMark: 0 }),
    writable: new WritableStream(),
  }, { receiveBufferBytes: 10_000 });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(
    pulls <= 12,
    `read ${pulls} messages of 1 KB with a 10 KB receive buffer`,
  );
  const before = pulls;
  for (let i = 0; i < 8; i++) await ipc.receive();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(pulls > before, "reading resumes once the consumer catches up");
  assert.ok(pulls <= before + 12);
  await ipc.close();
});

Deno.test("IpcJsonStream rejects invalid options with a RangeError", () => {
  const channel = {
    readable: new ReadableStream(),
    writable: new WritableStream(),
  };
  assert.throws(
    () => new IpcJsonStream(channel, { maxMessageBytes: 0 }),
    RangeError,
  );
  assert.throws(
    () => new IpcJsonStream(channel, { sendBufferBytes: -1 }),
    RangeError,
  );
  assert.throws(
    () => new IpcJsonStream(channel, { receiveBufferBytes: 1.5 }),
    /positive integer/,
  );
});

Deno.test("IpcJsonStream with await using closes at the end of the block", async () => {
  const [a, b] = pair();
  {
    await using scoped = a;
    await scoped.send("last");
  }
  assert.equal(await b.receive(), "last");
  await b.closed;
  await assert.rejects(a.send(1), IpcClosedError);
});

Deno.test("IpcJsonStream writes what was queued, then hangs up, when bad input ends the channel", async () => {
  const events: string[] = [];
  let sink: IpcTransportSink | undefined;
  const transport: IpcTransport = {
    reusesReadBuffer: false,
    start: (s) => void (sink = s),
    resume: () => {},
    write: (data, done) => {
      events.push(
        `write ${typeof data === "string" ? data : decoder.decode(data)}`,
      );
      queueMicrotask(() => done());
    },
    close: () => {
      events.push("close");
      return Promise.resolve();
    },
    destroy: () => void events.push("destroy"),
    ref: () => {},
    unref: () => {},
  };
  const ipc = new IpcJsonStream(transport);
  await ipc.send({ reply: 1 }); // queued, waiting for its flush tick
  sink!.data(encoder.encode("{not json}\n"));
  await ipc.closed;
  // The queued reply is written, then the channel hangs up without reading more.
  assert.deepEqual(events, ['write {"reply":1}\n', "destroy"]);
  await assert.rejects(ipc.receive(), IpcProtocolError);
  await assert.rejects(ipc.send(2), IpcClosedError);
});

Deno.test("IpcJsonStream answers calls that arrived before its first handle()", async () => {
  const [a, b] = pair();
  const answer = b.request("add", [2, 40]);
  await a.send("a plain message");
  await new Promise((resolve) => setTimeout(resolve, 20)); // the call waits in a's queue
  a.handle("add", ([x, y]: number[]) => x + y);
  assert.equal(await answer, 42);
  assert.equal(await b.receive(), "a plain message");
  await a.close();
  await b.closed;
});

Deno.test("a $/cancelProcess that came while calls were handled but nobody listened is replayed to the first listener, once", async () => {
  const [parent, child] = pair();
  const stop = child.handle("ping", () => "pong");
  const cancel = { jsonrpc: "2.0", method: "$/cancelProcess", params: {} };
  await parent.send({ ...cancel, params: { reason: 1 } });
  await parent.send({ ...cancel, params: { reason: 2 } });
  assert.equal(await parent.request("ping"), "pong", "both are received");
  const heard: unknown[] = [];
  child[CONTROLS]().onCancelProcess((params) => heard.push(params));
  assert.deepEqual(heard, [{ reason: 2 }], "the last one, replayed");
  await parent.send({ ...cancel, params: { reason: 3 } });
  assert.equal(await parent.request("ping"), "pong");
  assert.deepEqual(heard, [{ reason: 2 }, { reason: 3 }]);
  await parent.send("plain");
  assert.equal(
    await child.receive(),
    "plain",
    "no cancel reached the iterator",
  );
  stop();
  await parent.close();
  await child.close();
});
