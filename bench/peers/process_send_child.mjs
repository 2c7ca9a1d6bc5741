// The child of node-fork (run by Node) and of bun (run by Bun): answers the
// msg_driver.mjs protocol with process.send / process.on("message"), JSON
// serialization. Backpressure, the documented Node way: process.send()
// returns false when the channel backlog is too large; we then wait for a
// send callback. Bun 1.4 always returns true, so under Bun the loops never
// wait (Bun queues in memory).
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
/** Sends; resolves at once unless the runtime asked us to slow down. */
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
