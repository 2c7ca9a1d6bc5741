import assert from "node:assert/strict";
import { checkName, clientOptions } from "./options.ts";

Deno.test("options: names are subject tokens", () => {
  for (const name of ["fib", "sha-256", "a_b", "X9"]) {
    assert.equal(checkName("t", "method", name), name);
  }
  for (const name of ["", "a.b", "a b", "*", ">", "a$", 7, undefined]) {
    assert.throws(() => checkName("t", "method", name), TypeError);
  }
});

Deno.test("options: credentials and TLS go to the client as they are", () => {
  assert.deepEqual(clientOptions("t", {}), {
    servers: "127.0.0.1:4222",
    maxReconnectAttempts: -1,
  });
  const options = clientOptions("t", {
    servers: ["nats://a:4222", "nats://b:4222"],
    tls: { caFile: "/ca.pem" },
    user: "u",
    pass: "p",
    token: "tok",
    name: "me",
  });
  assert.deepEqual(options, {
    servers: ["nats://a:4222", "nats://b:4222"],
    maxReconnectAttempts: -1,
    tls: { caFile: "/ca.pem" },
    user: "u",
    pass: "p",
    token: "tok",
    name: "me",
  });
  const seed = "SUACP7HYRPYT6W3P7L6AJ6CBLN7WN2CRNEZ5O6YIF52LRZ4LCIZ6VFQKIM";
  assert.equal(
    typeof clientOptions("t", { nkeySeed: seed }).authenticator,
    "function",
  );
  assert.throws(() => clientOptions("t", { nkeySeed: "UABC" }), /NKEY seed/);
  assert.throws(() => clientOptions("t", { servers: [] }), TypeError);
  assert.throws(
    () => clientOptions("t", { servers: 4222 as unknown as string }),
    TypeError,
  );
});
