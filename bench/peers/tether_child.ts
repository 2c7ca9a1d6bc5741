// tether child (Deno, no permissions): answers the msg_driver.mjs protocol
// with @tether/ipc's connectParentIpc() on fd 3. Sends with `await
// parent.send(m)` in a plain loop: the library resolves at once while under
// its send buffer limit and only waits when the socket pushes back.
import { connectParentIpc } from "../../mod.ts";

type Msg = { cmd?: string; len?: number; count?: number; max?: number };

const parent = connectParentIpc();
let len = 0;
let payload = "";

for await (const raw of parent) {
  const m = (raw ?? {}) as Msg;
  if (m.cmd === "exit") break;
  switch (m.cmd) {
    case "prepare":
      len = m.len ?? 0;
      payload = len > 0
        ? new TextDecoder().decode(new Uint8Array(len).fill(0x78))
        : "";
      await parent.send({ ack: "prepared" });
      break;
    case "stream":
      if (len > 0) {
        for (let i = 0; i < (m.count ?? 0); i++) await parent.send(payload);
      } else {
        for (let i = 0; i < (m.count ?? 0); i++) {
          await parent.send({ i, s: "hello world" });
        }
      }
      break;
    case "flood":
      await parent.send({ ack: "flooding" });
      for (let i = 0; i < (m.max ?? 0); i++) await parent.send(payload);
      break;
    default:
      await parent.send(raw); // ping-pong echo
  }
}
await parent.close();
