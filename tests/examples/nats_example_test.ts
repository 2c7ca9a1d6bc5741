// The NATS demo as `deno task demo:nats` runs it: a real nats-server, two
// member processes with a pool each, calls spread over both, one member
// killed and the calls going on.
import assert from "node:assert/strict";
import { within } from "../helpers.ts";
import { natsServerBinary } from "../nats/nats_server.ts";

const example = new URL("../../examples/nats.ts", import.meta.url).pathname;

/** The permission flags of `deno task demo:nats`. */
function demoFlags(): string[] {
  const config = JSON.parse(
    Deno.readTextFileSync(new URL("../../deno.json", import.meta.url)),
  );
  return (config.tasks["demo:nats"] as string).split(" ")
    .filter((word) => word.startsWith("--allow-"));
}

Deno.test("examples/nats.ts spreads calls over two members and goes on after one is killed", async () => {
  const { code, stdout, stderr } = await within(
    new Deno.Command(Deno.execPath(), {
      // As deno.json's demo:nats task runs it.
      args: ["run", "--quiet", ...demoFlags(), example],
      env: { NATS_SERVER: natsServerBinary() },
      stdout: "piped",
      stderr: "piped",
    }).output(),
    "the demo",
    120_000,
  );
  const output = new TextDecoder().decode(stdout);
  assert.equal(code, 0, output + new TextDecoder().decode(stderr));
  const members = [...output.matchAll(/^member (\d+) with children/gm)].map(
    (m) => m[1],
  );
  assert.equal(members.length, 2, output);
  const first = output.match(/^200 calls: (.*); failed: 0$/m);
  assert.ok(first, output);
  for (const member of members) {
    assert.match(first[1], new RegExp(`member ${member}: [1-9]\\d*`), output);
  }
  const killed = output.match(/^killed member (\d+)$/m)?.[1];
  const survivor = members.find((member) => member !== killed);
  // Right after the kill, a call can still reach the dead member (before
  // the server has noticed) and time out; nothing else fails.
  const right = output.match(/^200 calls right after: (.*); failed: (\d+)$/m);
  assert.ok(right, output);
  assert.match(right[1], new RegExp(`^member ${survivor}: \\d+$`), output);
  const failures = output.match(/^ {2}a call failed: .*$/gm) ?? [];
  assert.equal(failures.length, Number(right[2]), output);
  assert.ok(failures.every((line) => line.endsWith("IpcTimeoutError")), output);
  assert.match(
    output,
    new RegExp(`^200 more calls: member ${survivor}: 200; failed: 0$`, "m"),
  );
  assert.match(
    output,
    /an error from a child: RangeError: cannot divide by zero/,
  );
  assert.match(output, /^done$/m);
});
