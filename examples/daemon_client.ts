/**
 * A client of `daemon.ts`: says who it is, adds 1 to 5 to the daemon's
 * total one second apart, prints every update the daemon sends (its own and
 * other clients'), and leaves.
 *
 * With the daemon running, start two at once, in two terminals:
 *
 *     deno run --allow-read=/tmp/tether-ipc-demo --allow-write=/tmp/tether-ipc-demo/daemon.sock \
 *       --allow-net=unix:/tmp/tether-ipc-demo/daemon.sock examples/daemon_client.ts alice
 *     deno run --allow-read=/tmp/tether-ipc-demo --allow-write=/tmp/tether-ipc-demo/daemon.sock \
 *       --allow-net=unix:/tmp/tether-ipc-demo/daemon.sock examples/daemon_client.ts bob
 *
 * (or `deno task daemon:client alice`). It reads the key the daemon made;
 * other users cannot even reach the socket.
 *
 * @module
 */

import { connectIpc } from "@tether/ipc";
import {
  type ClientMessage,
  type DaemonMessage,
  demoDir,
  keyPath,
  socketPath,
} from "./daemon_protocol.ts";

const name = Deno.args.find((arg) => !arg.includes("=")) ?? "client";
const interval = Number(
  Deno.args.find((arg) => arg.startsWith("interval="))?.slice(9) ?? 1000,
);
const dir = demoDir(Deno.args);

await using daemon = await connectIpc<DaemonMessage, ClientMessage>({
  path: socketPath(dir),
  authKey: Deno.readFileSync(keyPath(dir)),
});
await daemon.send({ hello: name });

const adding = (async () => {
  for (let n = 1; n <= 5; n++) {
    await new Promise((resolve) => setTimeout(resolve, interval));
    await daemon.send({ add: n });
  }
})();

let mine = 0;
for await (const message of daemon) {
  if ("welcome" in message) {
    console.log(`${name}: welcome, ${message.clients} client(s) connected`);
    continue;
  }
  console.log(
    `${name}: total ${message.total} (+${message.added} by ${message.by})`,
  );
  if (message.by === name && ++mine === 5) break;
}
await adding;
console.log(`${name}: done`);
