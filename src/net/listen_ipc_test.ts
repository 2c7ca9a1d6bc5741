import assert from "node:assert/strict";
import { HandshakeBudget } from "./listen_ipc.ts";

Deno.test("HandshakeBudget: past the total, the oldest is dropped", () => {
  const budget = new HandshakeBudget<string>(2, 10);
  assert.deepEqual(budget.admit("a", undefined), []);
  assert.deepEqual(budget.admit("b", undefined), []);
  const dropped = budget.admit("c", undefined);
  assert.deepEqual(dropped.map((d) => [d.key, d.limit]), [
    ["a", "maxPendingHandshakes"],
  ]);
  assert.deepEqual([...budget.keys()], ["b", "c"]);
  budget.release("b");
  assert.deepEqual(budget.admit("d", undefined), []);
  assert.equal(budget.size, 2);
});

Deno.test("HandshakeBudget: past an address's limit, that address's oldest is dropped, not others'", () => {
  const budget = new HandshakeBudget<string>(10, 2);
  budget.admit("x1", "10.0.0.1");
  budget.admit("y1", "10.0.0.2");
  budget.admit("x2", "10.0.0.1");
  const dropped = budget.admit("x3", "10.0.0.1");
  assert.deepEqual(dropped.map((d) => [d.key, d.limit]), [
    ["x1", "maxPendingHandshakesPerAddress"],
  ]);
  assert.deepEqual([...budget.keys()], ["y1", "x2", "x3"]);
  // Released and dropped keys free their address's count.
  budget.release("x2");
  budget.release("x1"); // dropped already: nothing
  assert.deepEqual(budget.admit("x4", "10.0.0.1"), []);
  assert.equal(budget.size, 3);
});

Deno.test("HandshakeBudget: both limits at once drop two", () => {
  const budget = new HandshakeBudget<string>(2, 1);
  budget.admit("a", "A");
  budget.admit("b", "B");
  const dropped = budget.admit("a2", "A");
  // The address's own oldest goes first; then the total has room again.
  assert.deepEqual(dropped.map((d) => d.key), ["a"]);
  assert.deepEqual([...budget.keys()], ["b", "a2"]);
  const more = budget.admit("c", "C");
  assert.deepEqual(more.map((d) => [d.key, d.limit]), [
    ["b", "maxPendingHandshakes"],
  ]);
});
