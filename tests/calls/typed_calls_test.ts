// Calls typed from the handlers object: the typed proxy runs against a real
// child, and `deno check` rejects misuse at compile time.
import assert from "node:assert/strict";
import { inspect } from "node:util";
import type { handlers } from "../fixtures/stream_child.ts";
import { spawnFixture } from "../helpers.ts";

const errorsFile = new URL("./typed_errors.ts", import.meta.url).pathname;

async function denoCheck(
  path: string,
): Promise<{ ok: boolean; output: string }> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", path],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    ok: success,
    output: decoder.decode(stdout) + decoder.decode(stderr),
  };
}

Deno.test("the typed proxy of child.ipc.remote<typeof handlers>() calls and streams", async () => {
  await using child = spawnFixture("stream_child.ts");
  const api = child.ipc.remote<typeof handlers>();
  const n: number = await api.fib({ n: 20 }, { timeout: 10_000 });
  assert.equal(n, 6765);
  assert.equal(await api.pid(), child.pid);
  const items: (string | number)[] = [];
  for await (const item of api.count({ n: 4 })) items.push(item);
  assert.deepEqual(items, [0, 1, 2, 3]);
  const pending = [api.fib({ n: 1 }), api.fib({ n: 2 })];
  assert.deepEqual(await Promise.all(pending), [1, 1]);
});

Deno.test("the proxy reads as an ordinary object: String(), a template, inspect, JSON and await send nothing", async () => {
  await using child = spawnFixture("stream_child.ts");
  const api = child.ipc.remote<typeof handlers>();
  assert.equal(await api.pid(), child.pid);
  const sent = child.ipc.stats().messagesOut;
  assert.equal(String(api), "[object IpcRemote]");
  assert.equal(`${api}`, "[object IpcRemote]");
  assert.equal("" + api, "[object IpcRemote]");
  assert.equal(Object.prototype.toString.call(api), "[object IpcRemote]");
  assert.equal(api.valueOf(), api);
  assert.equal(JSON.stringify(api), "{}");
  assert.equal(Deno.inspect(api), "IpcRemote { caller: IpcJsonStream }");
  assert.equal(inspect(api), "IpcRemote { caller: IpcJsonStream }");
  console.log("the proxy logs as", api);
  // Not a thenable: awaiting it gives the proxy itself, not a call.
  assert.equal(await api, api);
  assert.equal(await Promise.resolve(api), api);
  const symbols = api as unknown as Record<symbol, unknown>;
  assert.equal(symbols[Symbol.toPrimitive], undefined);
  assert.equal(symbols[Symbol.asyncIterator], undefined);
  assert.equal(child.ipc.stats().messagesOut, sent, "nothing was sent");
  assert.equal(await api.fib({ n: 10 }), 55, "the proxy still calls");
});

Deno.test("deno check accepts the typed calls and rejects each misuse marked @ts-expect-error", async () => {
  const checked = await denoCheck(errorsFile);
  assert.ok(checked.ok, checked.output);
});

Deno.test("without the @ts-expect-error marks, each misuse is a compile error", async () => {
  const source = await Deno.readTextFile(errorsFile);
  const marks = source.match(/\/\/ @ts-expect-error/g)?.length ?? 0;
  assert.equal(marks, 11);
  const unmarked = source.replaceAll("// @ts-expect-error", "// expected:");
  // Beside the original, so its relative imports still resolve.
  const path = await Deno.makeTempFile({
    dir: new URL(".", import.meta.url).pathname,
    prefix: "unmarked_",
    suffix: ".ts",
  });
  try {
    await Deno.writeTextFile(path, unmarked);
    const checked = await denoCheck(path);
    assert.equal(checked.ok, false);
    assert.match(checked.output, new RegExp(`Found ${marks} errors`));
  } finally {
    await Deno.remove(path);
  }
});
