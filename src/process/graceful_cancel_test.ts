import assert from "node:assert/strict";
import { cancelReasonFromWire, sendCancel } from "./graceful_cancel.ts";
import type { IpcJsonStream } from "../channel/ipc_json_stream.ts";

/** What sendCancel() puts on the wire for `reason`, through a stand-in channel. */
async function wire(reason: unknown): Promise<unknown> {
  let sent: unknown;
  const ipc = {
    send(message: unknown) {
      sent = JSON.parse(JSON.stringify(message));
      return Promise.resolve();
    },
  } as unknown as IpcJsonStream;
  await sendCancel(ipc, reason);
  return sent;
}

Deno.test("the cancel reason survives the wire: an Error's name and message, a JSON value as is", async () => {
  const error = cancelReasonFromWire(
    ((await wire(new RangeError("too slow"))) as { params: unknown }).params,
  );
  assert.ok(error instanceof Error);
  assert.equal(error.name, "RangeError");
  assert.equal(error.message, "too slow");
  const abort = new AbortController();
  abort.abort();
  const aborted = cancelReasonFromWire(
    ((await wire(abort.signal.reason)) as { params: unknown }).params,
  ) as Error;
  assert.equal(aborted.name, "AbortError");
  for (const value of ["stop", 3, { why: "deadline" }, [1, 2], null]) {
    const sent = (await wire(value)) as { method: string; params: unknown };
    assert.equal(sent.method, "$/cancelProcess");
    assert.deepEqual(cancelReasonFromWire(sent.params), value);
  }
});

Deno.test("a reason JSON cannot carry is sent as its String(); params is always an object (JSON-RPC §4.2)", async () => {
  const big = (await wire(10n)) as { params: unknown };
  assert.deepEqual(big.params, { reason: "10" });
  const none = (await wire(undefined)) as { params: unknown };
  assert.deepEqual(none.params, {});
  assert.equal(cancelReasonFromWire(none.params), undefined);
  assert.equal(cancelReasonFromWire("junk"), undefined);
  assert.equal(cancelReasonFromWire(null), undefined);
});

Deno.test("without a stack from the parent, the child's reason has none of the child's frames", () => {
  const error = cancelReasonFromWire({
    error: { name: "TypeError", message: "from Python" },
  }) as Error;
  assert.equal(error.stack, "TypeError: from Python");
});
