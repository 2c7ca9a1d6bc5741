import assert from "node:assert/strict";
import { classifyStream, streamNotification } from "./stream_messages.ts";

Deno.test("classifyStream recognises the four notifications, well formed", () => {
  assert.deepEqual(
    classifyStream(streamNotification("$/stream", { id: 7, credit: 16 })),
    { kind: "stream", id: 7, credit: 16 },
  );
  assert.deepEqual(
    classifyStream(
      streamNotification("$/stream/credit", { id: "a", credit: 1 }),
    ),
    { kind: "credit", id: "a", credit: 1 },
  );
  assert.deepEqual(
    classifyStream(
      streamNotification("$/stream/items", { id: 7, values: [1, null] }),
    ),
    { kind: "items", id: 7, values: [1, null] },
  );
  assert.deepEqual(
    classifyStream(
      streamNotification("$/progress", { id: 3, value: { done: 1 } }),
    ),
    { kind: "progress", id: 3, value: { done: 1 } },
  );
});

Deno.test("classifyStream leaves anything malformed or foreign to the plain messages", () => {
  const malformed: unknown[] = [
    null,
    "text",
    { jsonrpc: "2.0", method: "$/stream", params: { id: 1, credit: 0 } },
    { jsonrpc: "2.0", method: "$/stream", params: { id: 1, credit: 1.5 } },
    { jsonrpc: "2.0", method: "$/stream/credit", params: { id: 1 } },
    { jsonrpc: "2.0", method: "$/stream/items", params: { id: 1, values: [] } },
    { jsonrpc: "2.0", method: "$/stream/items", params: { id: 1, values: 5 } },
    {
      jsonrpc: "2.0",
      method: "$/stream/items",
      params: { id: {}, values: [1] },
    },
    { jsonrpc: "2.0", method: "$/stream/items", params: [1, [1]] },
    { jsonrpc: "2.0", method: "$/progress" },
    { jsonrpc: "2.0", id: 1, method: "$/progress", params: { id: 1 } },
    { jsonrpc: "1.0", method: "$/progress", params: { id: 1 } },
    { jsonrpc: "2.0", method: "$/other", params: { id: 1 } },
    { jsonrpc: "2.0", method: "progress", params: { id: 1 } },
  ];
  for (const message of malformed) {
    assert.equal(classifyStream(message), undefined, JSON.stringify(message));
  }
});
