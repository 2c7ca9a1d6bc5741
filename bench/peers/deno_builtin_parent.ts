// deno-builtin parent (Deno): runs one msg_driver.mjs workload against a Deno
// child (deno_builtin_child.ts) through Deno's built-in Node-compatible IPC:
// node:child_process spawn with an "ipc" stdio slot, child.on("message") and
// child.send(m). Prints one "@@RESULT {json}" line.
// Usage: deno run -A deno_builtin_parent.ts '{"workload":…}'
import { spawn } from "node:child_process";
import { Driver, type ParentChannel, runMain } from "./msg_driver.mjs";

const childPath = new URL("./deno_builtin_child.ts", import.meta.url).pathname;

await runMain(async (params) => {
  // Deno adds -A itself when the args carry no permission flag.
  const cp = spawn(Deno.execPath(), ["run", childPath], {
    stdio: ["inherit", "inherit", "inherit", "ipc"],
  });
  const driver = new Driver();
  const exited = new Promise((resolve) => cp.on("exit", resolve));
  cp.on("message", (m: unknown) => driver.deliver(m));
  cp.on("disconnect", () => driver.close("disconnect"));
  cp.on("exit", (code) => driver.close(`child exited (${code})`));
  cp.on("error", (e) => driver.close(String(e)));
  const childPid = cp.pid;
  if (childPid === undefined) throw new Error("spawn failed");
  const chan: ParentChannel = {
    send: (m) => {
      cp.send(m as Parameters<typeof cp.send>[0]);
    },
    childPid,
    stallKind: "block",
    pause: () => {},
    kill: () => cp.kill("SIGKILL"),
    exited,
  };
  try {
    return await driver.run(chan, params);
  } catch (e) {
    chan.kill();
    throw e;
  }
});
