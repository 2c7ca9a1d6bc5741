import assert from "node:assert/strict";
import { IpcMessageTooLargeError } from "../errors.ts";
import { cloneSize } from "./clone_size.ts";

Deno.test("cloneSize counts binary data by its bytes and text two bytes a character", () => {
  const big = cloneSize({ bytes: new Uint8Array(1000) }, 1e9);
  assert.ok(big >= 1000 && big < 1100, `${big}`);
  assert.equal(cloneSize("abc", 1e9), 6);
  assert.ok(cloneSize(new ArrayBuffer(4096), 1e9) >= 4096);
  assert.ok(
    cloneSize(new Map([["k", new Set([new Float64Array(8)])]]), 1e9) >= 64,
  );
});

Deno.test("cloneSize counts a value reached twice once, and ends on cycles", () => {
  const shared = new Uint8Array(10_000);
  assert.ok(cloneSize([shared, shared, shared], 1e9) < 20_000);
  const cyclic: Record<string, unknown> = { name: "cycle" };
  cyclic.self = cyclic;
  assert.ok(cloneSize(cyclic, 1e9) > 0);
  // Past 32 objects the list of seen objects becomes a set: still one count each.
  const many = Array.from({ length: 100 }, () => ({ shared }));
  assert.ok(cloneSize(many, 1e9) < 20_000);
});

Deno.test("cloneSize refuses what postMessage cannot clone, anywhere in the message", () => {
  for (
    const bad of [
      () => {},
      Symbol("s"),
      Promise.resolve(),
      new WeakMap(),
      { deep: [{ fn: () => {} }] },
      new Map([["k", Symbol("v")]]),
    ]
  ) {
    assert.throws(() => cloneSize(bad, 1e9), TypeError);
  }
});

Deno.test("cloneSize refuses a message over the limit without walking all of it", () => {
  assert.throws(
    () => cloneSize([() => {}, new Uint8Array(2048)], 1024),
    IpcMessageTooLargeError,
  );
  assert.throws(
    () => cloneSize({ text: "x".repeat(600) }, 1024),
    (thrown: unknown) =>
      thrown instanceof IpcMessageTooLargeError && thrown.limit === 1024,
  );
});
