/**
 * A daemon that any process of the same user can talk to, over a Unix
 * socket, with a shared key: it keeps a running total that its clients add
 * to, and tells every client each time the total changes.
 *
 * Start it (the flags allow exactly its directory and its socket):
 *
 *     deno run --allow-read=/tmp/tether-ipc-demo --allow-write=/tmp/tether-ipc-demo \
 *       --allow-net=unix:/tmp/tether-ipc-demo/daemon.sock examples/daemon.ts
 *
 * then run two clients at once, in two other terminals (see
 * `daemon_client.ts`), and stop the daemon with Ctrl-C. `deno task daemon`
 * and `deno task daemon:client alice` are the same commands.
 *
 * On its first run it makes the directory (mode 0700) and a random 32-byte
 * key in it (mode 0600); its clients read the key from there. A client
 * without the key, or with another one, is turned away before any message.
 *
 * @module
 */

import { type IpcJsonStream, IpcProtocolError, listenIpc } from "@tether/ipc";
import {
  type ClientMessage,
  type DaemonMessage,
  demoDir,
  keyPath,
  socketPath,
} from "./daemon_protocol.ts";

const dir = demoDir(Deno.args);
Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
const authKey = readOrMakeKey(keyPath(dir));

const listener = await listenIpc<ClientMessage, DaemonMessage>({
  path: socketPath(dir),
  authKey,
  onError: (error) => console.log(`turned away a client: ${error.message}`),
});
console.log(`daemon ${Deno.pid} listening on ${socketPath(dir)}`);

const clients = new Set<IpcJsonStream<ClientMessage, DaemonMessage>>();
let total = 0;

const stop = () => {
  console.log(`stopping: closing ${clients.size} channel(s)`);
  listener.close();
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

for await (const client of listener) {
  serve(client).catch((error) => {
    // One client's bad input ends its channel only.
    const why = error instanceof IpcProtocolError ? "bad input" : "error";
    console.log(`a client's channel failed (${why}): ${error.message}`);
  });
}
// Listening for signals would keep the process alive.
Deno.removeSignalListener("SIGINT", stop);
Deno.removeSignalListener("SIGTERM", stop);
console.log("daemon stopped");

async function serve(
  client: IpcJsonStream<ClientMessage, DaemonMessage>,
): Promise<void> {
  clients.add(client);
  let name = "anonymous";
  try {
    for await (const message of client) {
      if ("hello" in message) {
        name = String(message.hello);
        console.log(`${name} connected (${clients.size} client(s))`);
        await client.send({ welcome: name, clients: clients.size });
      } else if (typeof message.add === "number") {
        total += message.add;
        const update = { total, added: message.add, by: name };
        // Everyone hears about it; a client that went away is skipped.
        await Promise.all(
          [...clients].map((other) => other.send(update).catch(() => {})),
        );
      }
    }
  } finally {
    clients.delete(client);
    console.log(`${name} left (${clients.size} client(s))`);
  }
}

function readOrMakeKey(path: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const key = crypto.getRandomValues(new Uint8Array(32));
  Deno.writeFileSync(path, key, { mode: 0o600, createNew: true });
  return key;
}
