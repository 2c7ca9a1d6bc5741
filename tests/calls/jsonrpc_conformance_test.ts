// JSON-RPC 2.0 §4.2 with a strict peer: vscode-jsonrpc, in a real child on
// Node's IPC channel, accepts every request this library sends (scalar
// params included), and its calls reach handlers with the parameters its
// caller passed.
import assert from "node:assert/strict";
import { IpcRemoteError } from "../../mod.ts";
import { spawnFixture, within } from "../helpers.ts";

function vscodeChild() {
  // vscode-jsonrpc reads XDG_RUNTIME_DIR and TMPDIR as it loads.
  return spawnFixture("vscode_jsonrpc_child.ts", [], {
    nodeCompat: true,
    flags: ["--allow-env"],
  });
}

Deno.test("vscode-jsonrpc, declaring how each handler takes its params, accepts every request this library sends", async () => {
  await using child = vscodeChild();
  const ipc = child.ipc;
  const call = (method: string, params?: unknown) =>
    within(ipc.request(method, params, { timeout: 30_000 }), method);
  assert.equal(await call("upper", "hi"), "HI");
  assert.equal(await call("double", 21), 42);
  assert.equal(await call("not", false), true);
  assert.equal(await call("nullType", null), "null");
  assert.equal(await call("sum", [1, 2, 3]), 6);
  assert.equal(await call("add", { a: 2, b: 40 }), 42);
  assert.equal(await call("none"), "none");
  assert.deepEqual(await call("violations"), [], "every request kept §4.2");
});

Deno.test("the strict peer refuses a scalar params that does not keep §4.2 (what was sent before)", async () => {
  await using child = vscodeChild();
  // Written as a plain message, as the library wrote requests before.
  await child.ipc.send({
    jsonrpc: "2.0",
    id: 9,
    method: "upper",
    params: "hi",
  });
  const answer = await within(child.ipc.receive(), "the answer") as {
    error?: { code: number };
  };
  assert.equal(answer.error?.code, -32602, "InvalidParams");
  const violations = await within(
    child.ipc.request("violations"),
    "violations",
  );
  assert.equal((violations as unknown[]).length, 1);
  // The test must be able to fail: the strict peer tells conformant from not.
  await assert.rejects(
    child.ipc.request("add", [1, 2]),
    (error) => error instanceof IpcRemoteError && error.code === -32602,
  );
});

Deno.test("vscode-jsonrpc's calls reach the handlers with the params its caller passed", async () => {
  await using child = vscodeChild();
  child.ipc.handle("describe", (params: unknown) => ({
    params: params === undefined ? "undefined" : params,
  }));
  const seen = await within(
    child.ipc.request("callParent", undefined, { timeout: 30_000 }),
    "the child's calls",
  );
  assert.deepEqual(seen, [
    { params: "undefined" }, // sendRequest("describe")
    { params: "hi" }, // sendRequest("describe", "hi"): ["hi"] on the wire
    { params: 7 },
    { params: null },
    { params: [1, 2] }, // one array parameter: [[1, 2]] on the wire
    { params: { a: 1 } }, // by name
    { params: [1, 2] }, // two positional parameters
    { params: { a: 2 } },
  ]);
});
