import assert from "node:assert/strict";
import { type IpcChildStatus, stopChild } from "./stop_child.ts";

type StoppableChild = Parameters<typeof stopChild>[0];

/** A stand-in child that ends on the signals in `diesOn`, and records what it got. */
function fakeChild(diesOn: Deno.Signal[]): StoppableChild & {
  got: string[];
  exit(status: IpcChildStatus): void;
} {
  const ended = Promise.withResolvers<IpcChildStatus>();
  let exited = false;
  const got: string[] = [];
  const exit = (status: IpcChildStatus) => {
    exited = true;
    ended.resolve(status);
  };
  return {
    got,
    exit,
    status: ended.promise,
    kill(signal: Deno.Signal = "SIGTERM") {
      if (exited) return false;
      got.push(signal);
      if (diesOn.includes(signal)) {
        exit({
          success: false,
          code: 128 + (signal === "SIGKILL" ? 9 : 15),
          signal,
        });
      }
      return true;
    },
  };
}

Deno.test("stopChild: SIGTERM, and no SIGKILL for a child that obeys it", async () => {
  const child = fakeChild(["SIGTERM", "SIGKILL"]);
  const status = await stopChild(child, { killTimeout: 10_000 });
  assert.equal(status.signal, "SIGTERM");
  assert.deepEqual(child.got, ["SIGTERM"]);
});

Deno.test("stopChild: SIGKILL after killTimeout when SIGTERM is ignored", async () => {
  const child = fakeChild(["SIGKILL"]);
  const status = await stopChild(child, { killTimeout: 10 });
  assert.equal(status.signal, "SIGKILL");
  assert.deepEqual(child.got, ["SIGTERM", "SIGKILL"]);
});

Deno.test("stopChild: graceful first; a child that exits then gets no signal", async () => {
  const child = fakeChild(["SIGKILL"]);
  const status = await stopChild(child, {
    killTimeout: 10_000,
    graceful: () => child.exit({ success: true, code: 0, signal: null }),
  });
  assert.deepEqual(status, { success: true, code: 0, signal: null });
  assert.deepEqual(child.got, []);
});

Deno.test("stopChild: a graceful step that throws or never settles does not stop the escalation", async () => {
  for (
    const graceful of [
      () => {
        throw new Error("channel broken");
      },
      () => new Promise<never>(() => {}),
    ]
  ) {
    const child = fakeChild(["SIGKILL"]);
    const status = await stopChild(child, { killTimeout: 10, graceful });
    assert.equal(status.signal, "SIGKILL");
    assert.deepEqual(child.got, ["SIGTERM", "SIGKILL"]);
  }
});

Deno.test("stopChild: a child that already exited is not signalled", async () => {
  const child = fakeChild([]);
  child.exit({ success: false, code: 3, signal: null });
  const status = await stopChild(child);
  assert.equal(status.code, 3);
  assert.deepEqual(child.got, []);
});
