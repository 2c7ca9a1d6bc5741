import assert from "node:assert/strict";
import { type CallReceiving, IncomingLimit } from "./incoming_limit.ts";

function receiving(max: number, limitBytes: number) {
  const side: CallReceiving & { drained: number } = {
    maxConcurrentCalls: max,
    limitBytes,
    plainFull: false,
    drained: 0,
    callsDrained: () => side.drained++,
  };
  return side;
}

Deno.test("calls past the limit wait in arrival order and run as places free", () => {
  const side = receiving(2, 1000);
  const ran: number[] = [];
  const limit = new IncomingLimit<number>(side, (call) => ran.push(call));
  for (let i = 0; i < 5; i++) limit.admit(i, 10);
  assert.deepEqual(ran, [0, 1]);
  assert.equal([limit.running, limit.waiting].join(), "2,3");
  limit.release();
  limit.release();
  assert.deepEqual(ran, [0, 1, 2, 3]);
  limit.release();
  limit.release();
  limit.release();
  assert.deepEqual(ran, [0, 1, 2, 3, 4]);
  assert.equal([limit.running, limit.waiting].join(), "0,0");
});

Deno.test("past limitBytes of waiting calls reading must pause, and resumes at half", () => {
  const side = receiving(1, 100);
  const limit = new IncomingLimit<number>(side, () => {});
  limit.admit(0, 60); // runs
  limit.admit(1, 60);
  assert.equal(limit.full, false);
  limit.admit(2, 60);
  assert.equal(limit.full, true);
  limit.release(); // 1 runs; 60 bytes wait: over half
  assert.equal(side.drained, 0);
  limit.release(); // 2 runs; nothing waits
  assert.equal(side.drained, 1);
  assert.equal(limit.full, false);
});
