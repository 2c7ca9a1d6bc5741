// The other end of bench/worker_bench.ts, run both as a Web Worker and as a
// child process: connectParentIpc() finds its channel either way.
import { connectParentIpc } from "../mod.ts";

type Command = { cmd: "stream"; count: number } | { cmd: "exit" };

// A child process is told its serialization; a worker has none (structured clone).
const parent = connectParentIpc({
  serialization: Deno.args[0] === "advanced" ? "advanced" : "json",
});
for await (const raw of parent) {
  const message = raw as Command | { bytes: Uint8Array } | unknown;
  if (typeof message === "object" && message !== null) {
    if ("bytes" in message) {
      await parent.send({ length: (message.bytes as Uint8Array).byteLength });
      continue;
    }
    const command = message as Command;
    if (command.cmd === "exit") break;
    if (command.cmd === "stream") {
      for (let i = 0; i < command.count; i++) {
        await parent.send({ i, s: "hello world" });
      }
      continue;
    }
  }
  await parent.send(raw); // ping-pong echo
}
await parent.close();
