import assert from "node:assert/strict";
import { CANCEL_PROCESS_METHOD, classify } from "./jsonrpc.ts";
import { ReservedNotifications } from "./reserved_notifications.ts";

Deno.test("$/cancelProcess is a call-layer notification; other unknown notifications stay plain messages", () => {
  const params = { reason: "stop" };
  assert.deepEqual(
    classify({ jsonrpc: "2.0", method: CANCEL_PROCESS_METHOD, params }),
    { kind: "notification", method: CANCEL_PROCESS_METHOD, params },
  );
  assert.equal(
    classify({ jsonrpc: "2.0", method: "$/other", params }),
    undefined,
  );
  assert.equal(classify({ jsonrpc: "2.0", method: "note", params }), undefined);
  assert.equal(
    classify({ jsonrpc: "2.0", method: CANCEL_PROCESS_METHOD, extra: 1 }),
    undefined,
  );
});

Deno.test("a reserved notification nobody listens for yet is replayed to the first listener, once", () => {
  const reserved = new ReservedNotifications();
  reserved.notify("$/a", 1);
  reserved.notify("$/a", 2);
  const heard: unknown[] = [];
  const stop = reserved.listen("$/a", (params) => heard.push(params));
  assert.deepEqual(heard, [2], "the last one, replayed");
  reserved.notify("$/a", 3);
  stop();
  reserved.notify("$/a", 4);
  assert.deepEqual(heard, [2, 3]);
  // A peer sending many distinct methods cannot grow the memory for ever.
  for (let i = 0; i < 1000; i++) reserved.notify(`$/m${i}`, i);
  const late: unknown[] = [];
  reserved.listen("$/m999", (params) => late.push(params));
  assert.deepEqual(late, []);
});
