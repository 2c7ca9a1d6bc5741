import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CANCEL_PROCESS_METHOD,
  classify,
  paramsFromWire,
  paramsToWire,
} from "./jsonrpc.ts";

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
