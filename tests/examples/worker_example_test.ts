// examples/worker.ts as `deno task demo:worker` runs it.
import assert from "node:assert/strict";
import { within } from "../helpers.ts";

Deno.test("examples/worker.ts: clones, a transferred buffer, calls, a stream and a crashing worker", async () => {
  const { code, stdout, stderr } = await within(
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        new URL("../../examples/worker.ts", import.meta.url).pathname,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output(),
    "the demo",
  );
  const output = new TextDecoder().decode(stdout);
  assert.equal(code, 0, output + new TextDecoder().decode(stderr));
  assert.match(output, /summary: 2 kinds, 8 items, counted 2026-12-01/);
  assert.match(
    output,
    /brightness of 16 MiB: 200 .*now 0 bytes \(transferred\)/,
  );
  assert.match(
    output,
    /primes below 50: 2 3 5 7 11 13 17 19 23 29 31 37 41 43 47/,
  );
  assert.match(output, /the crashing call rejected: .*failed on purpose/);
  assert.match(output, /the worker ended with: Worker "failing" threw/);
});
