// `deno publish --dry-run` packs both entry points: "." (mod.ts) and
// "./nats" (nats.ts) with the NATS sources, and mod.ts stays free of NATS.
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);

Deno.test("publish: the package has both entry points, and the core has no NATS import", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", root)),
  );
  assert.deepEqual(config.exports, { ".": "./mod.ts", "./nats": "./nats.ts" });
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(stdout) +
    new TextDecoder().decode(stderr);
  assert.ok(success, output);
  for (const file of ["mod.ts", "nats.ts", "src/nats/serve_nats_calls.ts"]) {
    assert.match(output, new RegExp(`/${file.replaceAll(".", "\\.")} \\(`));
  }
  assert.doesNotMatch(output, /tests\/nats\//);
  // The core entry point reaches no NATS module.
  const graph = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "mod.ts"],
    cwd: root,
    stdout: "piped",
  }).output();
  const { modules } = JSON.parse(new TextDecoder().decode(graph.stdout)) as {
    modules: { specifier: string }[];
  };
  assert.ok(modules.some((m) => m.specifier.endsWith("/src/pool/ipc_pool.ts")));
  const nats = modules.filter((m) =>
    /@nats-io|\/src\/nats\/|\/nats\.ts$/.test(m.specifier)
  );
  assert.deepEqual(nats, []);
});
