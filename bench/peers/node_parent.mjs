// node-fork parent (Node): runs one msg_driver.mjs workload against a Node
// child (process_send_child.mjs) started with child_process.fork (JSON serialization,
// the default), child.on("message") and child.send(m). Prints one
// "@@RESULT {json}" line. Usage: node node_parent.mjs '{"workload":…}'
import { fork } from "node:child_process";
import { Driver, runMain } from "./msg_driver.mjs";

const childPath = new URL("./process_send_child.mjs", import.meta.url).pathname;

await runMain(async (params) => {
  const cp = fork(childPath, [], { serialization: "json" });
  const driver = new Driver();
  const exited = new Promise((resolve) => cp.on("exit", resolve));
  cp.on("message", (m) => driver.deliver(m));
  cp.on("disconnect", () => driver.close("disconnect"));
  cp.on("exit", (code) => driver.close(`child exited (${code})`));
  cp.on("error", (e) => driver.close(String(e)));
  const chan = {
    send: (m) => {
      cp.send(m);
    },
    childPid: cp.pid,
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
