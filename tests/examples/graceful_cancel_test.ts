// examples/graceful_cancel.ts as `deno task demo:cancel` runs it.
import assert from "node:assert/strict";
import { within } from "../helpers.ts";

Deno.test("examples/graceful_cancel.ts: the polite child exits by itself, the stubborn one is killed", async () => {
  const output = await within(
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-run",
        "--allow-env",
        new URL("../../examples/graceful_cancel.ts", import.meta.url).pathname,
      ],
      stdout: "piped",
    }).output(),
    "the demo",
  );
  const text = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, text);
  assert.match(
    text,
    /polite child: stopped after step \d+ \("three steps are enough"\)/,
  );
  assert.match(text, /polite child ended: exited with code 0/);
  assert.match(text, /stubborn child ended: killed by SIGKILL/);
});
