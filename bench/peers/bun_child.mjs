// bun child (Bun): answers the msg_driver.mjs protocol with Bun's Node-style
// process.send / process.on("message"); the parent (bun_parent.mjs) picks
// serialization "json" in Bun.spawn. Same code as node_child.mjs: we honour
// a false return of process.send() like on Node, but Bun 1.4 always returns
// true, so in practice the loops below never wait (Bun queues in memory).
import process from "node:process";

let len = 0;
let payload = "";
let wake = null;
const onSent = () => {
  if (wake !== null) {
    const w = wake;
    wake = null;
    w();
  }
};
/** Sends; resolves at once unless Bun asked us to slow down. */
function send(m) {
  if (process.send(m, onSent)) return null;
  return new Promise((resolve) => (wake = resolve));
}

process.on("message", async (m) => {
  switch (m?.cmd) {
    case "prepare":
      len = m.len;
      payload = len > 0
        ? new TextDecoder().decode(new Uint8Array(len).fill(0x78))
        : "";
      process.send({ ack: "prepared" });
      break;
    case "stream":
      for (let i = 0; i < m.count; i++) {
        const w = send(len > 0 ? payload : { i, s: "hello world" });
        if (w !== null) await w;
      }
      break;
    case "flood":
      process.send({ ack: "flooding" });
      for (let i = 0; i < m.max; i++) {
        const w = send(payload);
        if (w !== null) await w;
      }
      break;
    case "exit":
      process.exit(0);
      break;
    default:
      process.send(m); // ping-pong echo
  }
});
