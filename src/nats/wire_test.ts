import assert from "node:assert/strict";
import { IpcMessageTooLargeError } from "../errors.ts";
import {
  cancelSubject,
  checkPayload,
  decodeAnswer,
  decodeParams,
  encodeAnswer,
  encodeParams,
  headerBytes,
  methodSubject,
} from "./wire.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("wire: params round-trip, and undefined is an empty body", () => {
  for (const value of [null, 0, "x", [1, { a: true }], { nested: { b: [] } }]) {
    assert.deepEqual(decodeParams(encodeParams(value)), value);
  }
  assert.equal(encodeParams(undefined).length, 0);
  assert.equal(decodeParams(new Uint8Array(0)), undefined);
  assert.throws(() => decodeParams(bytes("{nope")), SyntaxError);
  assert.throws(
    () => decodeParams(new Uint8Array([0x22, 0xff, 0x22])),
    TypeError,
  );
  assert.throws(() => encodeParams(1n), TypeError);
  assert.throws(() => encodeParams(() => 1), /no JSON form/);
});

Deno.test("wire: answers are recognised, anything else is not", () => {
  assert.deepEqual(decodeAnswer(encodeAnswer({ result: [1] })), {
    result: [1],
  });
  assert.deepEqual(decodeAnswer(encodeAnswer({ result: undefined })), {
    result: null,
  });
  assert.deepEqual(decodeAnswer(encodeAnswer({ result: () => 1 })), {
    result: null,
  });
  const error = { code: -32000, message: "boom", data: { name: "Error" } };
  assert.deepEqual(decodeAnswer(encodeAnswer({ error })), { error });
  for (
    const junk of [
      "surprise",
      "null",
      "[]",
      "{}",
      '{"error":"text"}',
      '{"error":{"code":1.5,"message":"x"}}',
      '{"error":{"code":1}}',
    ]
  ) {
    assert.equal(decodeAnswer(bytes(junk)), undefined, junk);
  }
  assert.equal(decodeAnswer(new Uint8Array([0xff])), undefined);
});

Deno.test("wire: subjects, header size and the max_payload check", () => {
  assert.equal(methodSubject("math", "fib"), "math.fib");
  assert.equal(cancelSubject("math"), "math.$cancel");
  assert.equal(
    headerBytes("abc"),
    "NATS/1.0\r\nTether-Call-Id: abc\r\n\r\n".length,
  );
  checkPayload("x", 100, 100);
  checkPayload("x", 10 ** 9, undefined);
  assert.throws(
    () => checkPayload("the params", 101, 100),
    (thrown: unknown) =>
      thrown instanceof IpcMessageTooLargeError && thrown.size === 101 &&
      thrown.limit === 100 &&
      /max_payload of 100 bytes\. Nothing was sent/.test(thrown.message),
  );
});
