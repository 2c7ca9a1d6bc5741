import assert from "node:assert/strict";
import { settlesWithin } from "./deadline.ts";

Deno.test("settlesWithin tells whether a promise settled before the deadline", async () => {
  assert.equal(await settlesWithin(Promise.resolve(1), 1000), true);
  assert.equal(await settlesWithin(Promise.reject(new Error("x")), 1000), true);
  assert.equal(await settlesWithin(new Promise(() => {}), 10), false);
});
