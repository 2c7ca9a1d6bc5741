// DenoConnTransport on its own, over real sockets: the IpcTransport contract
// (reused buffer, pause by returning false, resume, ordered writes with
// their callbacks, close after the queue, destroy, unref).
import assert from "node:assert/strict";
import { DenoConnTransport, listenIpc } from "../../mod.ts";
import type { IpcTransportSink } from "../../src/transports/transport.ts";
import { fixture, sleep, waitUntil, within } from "../helpers.ts";
import {
  closeConn,
  LOOPBACK,
  readToEnd,
  tempSocket,
  writeBytes,
} from "../net_helpers.ts";

/** Two ends of a loopback TCP connection. */
async function tcpPair(): Promise<[Deno.Conn, Deno.Conn]> {
  const listener = Deno.listen({ hostname: LOOPBACK, port: 0 });
  const connecting = Deno.connect({
    hostname: LOOPBACK,
    port: listener.addr.port,
  });
  const accepted = await listener.accept();
  listener.close();
  return [accepted, await connecting];
}

/** A sink that records what it is told; `answer` decides each `data()` result. */
function recordingSink(answer: () => boolean = () => true) {
  const record = {
    chunks: [] as Uint8Array[],
    buffers: new Set<ArrayBufferLike>(),
    bytes: 0,
    ended: false,
    errors: [] as Error[],
  };
  const sink: IpcTransportSink = {
    data(bytes) {
      record.buffers.add(bytes.buffer);
      record.chunks.push(bytes.slice());
      record.bytes += bytes.length;
      return answer();
    },
    end() {
      record.ended = true;
    },
    error(error) {
      record.errors.push(error);
    },
  };
  return { record, sink };
}

Deno.test("reads into one reused buffer, stops when data() returns false, goes on after resume()", async () => {
  const [near, far] = await tcpPair();
  const transport = new DenoConnTransport(near);
  assert.equal(transport.reusesReadBuffer, true);
  let accept = false;
  const { record, sink } = recordingSink(() => accept);
  transport.start(sink);

  const total = 1024 * 1024;
  const writing = writeBytes(far, new Uint8Array(total).fill(7));
  await waitUntil(() => record.chunks.length === 1, "the first chunk");
  // Paused: nothing more is read, however long we wait.
  await sleep(100);
  assert.equal(record.chunks.length, 1);

  accept = true;
  transport.resume();
  await within(writing, "the peer's write");
  await waitUntil(() => record.bytes === total, "every byte");
  assert.equal(record.buffers.size, 1, "one reused buffer");
  assert.ok(record.chunks.every((chunk) => chunk.every((byte) => byte === 7)));

  closeConn(far);
  await waitUntil(() => record.ended, "the end of input");
  assert.deepEqual(record.errors, []);
  transport.destroy();
  await transport.settled();
});

Deno.test("writes go out in order, each done() once; close() writes the queue first", async () => {
  const [near, far] = await tcpPair();
  const transport = new DenoConnTransport(near);
  transport.start(recordingSink().sink);
  const done: string[] = [];
  const expected: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const piece = i % 3 === 0 ? `${i}:é✓😀\n` : `${i}:${"z".repeat(i)}\n`;
    expected.push(piece);
    const data = i % 2 === 0 ? piece : new TextEncoder().encode(piece);
    transport.write(
      data,
      (error) => done.push(error ? `${i} ${error}` : `${i}`),
    );
  }
  // The peer reads to our end, then ends its side, as a channel does.
  const reading = readToEnd(far).then(async (bytes) => {
    await far.closeWrite();
    return bytes;
  });
  await within(transport.close(), "close()");
  const received = new TextDecoder().decode(await within(reading, "the bytes"));
  assert.equal(received, expected.join(""));
  assert.deepEqual(done, expected.map((_, i) => `${i}`));
  closeConn(far);
});

Deno.test("write() after destroy() and writes to a peer that is gone report an error through done()", async () => {
  const [near, far] = await tcpPair();
  const transport = new DenoConnTransport(near);
  const { record, sink } = recordingSink();
  transport.start(sink);
  closeConn(far);
  await waitUntil(() => record.ended, "the end of input");
  // The peer is gone: a write too large for the socket buffers fails
  // (reset or broken pipe), and its done() says so.
  const failed = Promise.withResolvers<Error | undefined>();
  transport.write(new Uint8Array(64 * 1024 * 1024), failed.resolve);
  assert.ok((await within(failed.promise, "the write")) instanceof Error);

  transport.destroy();
  const late = Promise.withResolvers<Error | undefined>();
  transport.write("late", late.resolve);
  assert.ok((await late.promise) instanceof Error);
  await transport.settled();
});

Deno.test("close() ends our side, then waits for the peer's end: a peer still sending sees no reset", async () => {
  const [near, far] = await tcpPair();
  const transport = new DenoConnTransport(near);
  // Never accepts input: what the peer sends stays unread.
  transport.start(recordingSink(() => false).sink);
  transport.write("last words\n", () => {});
  const closing = transport.close();
  // The peer gets everything and our end...
  assert.equal(new TextDecoder().decode(await readToEnd(far)), "last words\n");
  // ...and may still send its own last bytes without being reset (closing a
  // socket with unread input would send a reset instead, which on a real
  // network can also discard what we sent last).
  assert.equal(await writeBytes(far, new Uint8Array(1024 * 1024)), true);
  await far.closeWrite();
  await within(closing, "close()");
  closeConn(far);
});

Deno.test("an idle connected client lets its process exit (the transport unrefs)", async () => {
  using socket = tempSocket();
  const listener = await listenIpc({ path: socket.path });
  const accepting = listener.accept();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      `--allow-net=unix:${socket.path}`,
      `--allow-read=${socket.path}`,
      `--allow-write=${socket.path}`,
      fixture("idle_client.ts"),
      socket.path,
    ],
    stdout: "piped",
  }).spawn();
  const channel = await within(accepting, "the client");
  const output = await within(child.output(), "the client to exit on its own");
  assert.equal(output.code, 0);
  assert.equal(new TextDecoder().decode(output.stdout).trim(), "connected");
  // Its exit closed the connection.
  await within(channel.closed, "the channel to end");
  await listener.close();
});
