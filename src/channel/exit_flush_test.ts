import assert from "node:assert/strict";
import { IpcClosedError } from "../errors.ts";
import { IpcJsonStream } from "./ipc_json_stream.ts";

/** A writable that takes each chunk only after a few event-loop turns. */
function slowWritable(chunks: string[]): WritableStream<Uint8Array> {
  const decoder = new TextDecoder();
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      chunks.push(decoder.decode(chunk));
    },
  });
}

Deno.test("flush() resolves once every message sent is written, not just queued", async () => {
  const chunks: string[] = [];
  const ipc = new IpcJsonStream({
    readable: new ReadableStream(),
    writable: slowWritable(chunks),
  }, { sendBufferBytes: 64 });
  const sends = [];
  for (let i = 0; i < 200; i++) sends.push(ipc.send({ i }));
  await ipc.flush();
  const lines = chunks.join("").split("\n").filter((line) => line !== "");
  assert.deepEqual(lines.map((line) => JSON.parse(line).i), [
    ...Array(200).keys(),
  ]);
  await Promise.all(sends);
  await ipc.close();
});

Deno.test("flush() with nothing sent resolves at once", async () => {
  const ipc = new IpcJsonStream({
    readable: new ReadableStream(),
    writable: new WritableStream(),
  });
  await ipc.flush();
  await ipc.close();
  await ipc.flush(); // closed cleanly with nothing lost
});

Deno.test("flush() rejects with IpcClosedError when a write fails", async () => {
  const ipc = new IpcJsonStream({
    readable: new ReadableStream(),
    writable: new WritableStream({
      write() {
        throw new Error("the pipe broke");
      },
    }),
  });
  ipc.send({ lost: true }).catch(() => {});
  await assert.rejects(ipc.flush(), IpcClosedError);
  await ipc.closed;
});
