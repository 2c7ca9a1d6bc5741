import assert from "node:assert/strict";
import fc from "fast-check";
import { paramsFromWire, paramsToWire } from "./jsonrpc.ts";

Deno.test("params on the wire are an object or an array, and the handler gets back what the caller passed", () => {
  fc.assert(fc.property(fc.jsonValue(), (value) => {
    const wire = paramsToWire(value);
    assert.ok(typeof wire === "object" && wire !== null, "§4.2");
    assert.deepEqual(paramsFromWire(wire), value);
  }));
  assert.equal(paramsToWire(undefined), undefined);
  assert.deepEqual(paramsToWire("hi"), ["hi"]);
  assert.deepEqual(paramsToWire(null), [null]);
  assert.deepEqual(paramsToWire([1, 2]), [[1, 2]]);
  assert.deepEqual(paramsToWire({ a: 1 }), { a: 1 });
});

Deno.test("params from other peers: several by position stay an array; a non-conformant scalar is passed on", () => {
  assert.deepEqual(paramsFromWire([1, 2]), [1, 2]);
  assert.deepEqual(paramsFromWire([]), []);
  assert.equal(paramsFromWire("hi"), "hi");
  assert.equal(paramsFromWire(undefined), undefined);
});
