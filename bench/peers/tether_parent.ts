// tether parent (Deno): runs one msg_driver.mjs workload against a Deno child
// (tether_child.ts) spawned with @tether/ipc's spawnWithIpc, reading with the
// async iterator and sending with `await child.ipc.send(m)`. Prints one
// "@@RESULT {json}" line. Usage: deno run -A tether_parent.ts '{"workload":…}'
import { spawnWithIpc } from "../../mod.ts";
import { Driver, type ParentChannel, runMain } from "./msg_driver.mjs";

const childPath = new URL("./tether_child.ts", import.meta.url).pathname;

await runMain(async (params) => {
  const child = spawnWithIpc(Deno.execPath(), { args: ["run", childPath] });
  const driver = new Driver();
  let paused = false;
  let resume: (() => void) | null = null;
  // Pump: one iterator pull per message; while paused we simply stop pulling.
  (async () => {
    try {
      for await (const m of child.ipc) {
        driver.deliver(m);
        if (paused) await new Promise<void>((r) => (resume = r));
      }
      driver.close("iterator ended");
    } catch (e) {
      driver.close(String(e));
    }
  })();
  const childPid = child.pid;
  const chan: ParentChannel = {
    send: (m) => child.ipc.send(m),
    childPid,
    stallKind: "pull",
    pause: () => (paused = true),
    kill: () => {
      try {
        Deno.kill(childPid, "SIGKILL");
      } catch { /* already gone */ }
      resume?.();
    },
    exited: child.status,
  };
  try {
    return await driver.run(chan, params);
  } catch (e) {
    chan.kill();
    throw e;
  }
});
