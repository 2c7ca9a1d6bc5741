// bun parent (Bun): runs one msg_driver.mjs workload against a Bun child
// (process_send_child.mjs) started with Bun.spawn({ ipc(message) {…}, serialization:
// "json" }) and subprocess.send(m). Prints one "@@RESULT {json}" line.
// Usage: bun bun_parent.mjs '{"workload":…}'
import process from "node:process";
import { Driver, runMain } from "./msg_driver.mjs";

const childPath = new URL("./process_send_child.mjs", import.meta.url).pathname;
const { Bun } = globalThis;

await runMain(async (params) => {
  const driver = new Driver();
  const sub = Bun.spawn({
    cmd: [process.execPath, childPath],
    stdio: ["inherit", "inherit", "inherit"],
    serialization: "json",
    ipc(message) {
      driver.deliver(message);
    },
    onExit(_proc, code) {
      driver.close(`child exited (${code})`);
    },
  });
  const chan = {
    send: (m) => {
      sub.send(m);
    },
    childPid: sub.pid,
    stallKind: "block",
    pause: () => {},
    kill: () => sub.kill("SIGKILL"),
    exited: sub.exited,
  };
  try {
    return await driver.run(chan, params);
  } catch (e) {
    chan.kill();
    throw e;
  }
});
