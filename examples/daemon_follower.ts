/**
 * A client of `daemon.ts` that follows it across restarts: it prints every
 * update of the total, and when the daemon goes away (stopped, crashed,
 * restarted) it says so, reconnects with backoff as soon as the daemon is
 * back, introduces itself again, and goes on printing. Stop it with Ctrl-C.
 *
 * With the daemon running (`deno task daemon`):
 *
 *     deno run --allow-read=/tmp/tether-ipc-demo --allow-write=/tmp/tether-ipc-demo/daemon.sock \
 *       --allow-net=unix:/tmp/tether-ipc-demo/daemon.sock examples/daemon_follower.ts
 *
 * (or `deno task daemon:follower`), then run a client or two
 * (`deno task daemon:client alice`), stop the daemon, start it again, and
 * run another client: the follower carries on. `updates=N` makes it leave
 * after N updates.
 *
 * @module
 */

import { connectIpc, type IpcReconnectEvent } from "@tether/ipc";
import {
  type ClientMessage,
  type DaemonMessage,
  demoDir,
  keyPath,
  socketPath,
} from "./daemon_protocol.ts";

const name = Deno.args.find((arg) => !arg.includes("=")) ?? "follower";
const updates = Number(
  Deno.args.find((arg) => arg.startsWith("updates="))?.slice(8) ?? Infinity,
);
const dir = demoDir(Deno.args);

const daemon = await connectIpc<DaemonMessage, ClientMessage>({
  path: socketPath(dir),
  authKey: Deno.readFileSync(keyPath(dir)),
  reconnect: { maxDelay: 1_000, onStateChange: show },
});
await daemon.send({ hello: name });

function show({ state, attempt, error }: IpcReconnectEvent): void {
  if (state === "reconnecting" && attempt === 1) {
    console.log(`${name}: lost the daemon (${error?.message}); reconnecting`);
  } else if (state === "open") {
    console.log(`${name}: reconnected after ${attempt} attempt(s)`);
    // A new daemon does not know us yet.
    daemon.send({ hello: name }).catch(() => {});
  } else if (state === "closed" && error !== undefined) {
    console.log(`${name}: gave up: ${error.message}`);
  }
}

const stop = () => daemon.close();
Deno.addSignalListener("SIGINT", stop);

let seen = 0;
for await (const message of daemon) {
  if ("welcome" in message) {
    console.log(`${name}: following, ${message.clients} client(s) connected`);
    continue;
  }
  console.log(
    `${name}: total ${message.total} (+${message.added} by ${message.by})`,
  );
  if (++seen === updates) break;
}
Deno.removeSignalListener("SIGINT", stop);
await daemon.close();
console.log(`${name}: done`);
