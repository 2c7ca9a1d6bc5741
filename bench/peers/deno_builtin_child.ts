// deno-builtin child (Deno): answers the msg_driver.mjs protocol with Deno's
// Node-compatible IPC: process.send / process.on("message") from node:process
// (JSON lines on the fd Deno inherits for the "ipc" stdio slot).
// Backpressure as on Node: Deno's process.send() returns false once more than
// 128 KiB is queued (so for every message larger than 128 KiB); we then wait
// for a send callback.
import process from "node:process";

type Msg = { cmd?: string; len?: number; count?: number; max?: number };

const sendFn = process.send;
if (sendFn === undefined) throw new Error("no IPC channel: spawn me with ipc");
const send0 = sendFn.bind(process);

let len = 0;
let payload = "";
let wake: (() => void) | null = null;
const onSent = () => {
  if (wake !== null) {
    const w = wake;
    wake = null;
    w();
  }
};
/** Sends; resolves at once unless Deno asked us to slow down. */
function send(m: unknown): Promise<void> | null {
  if (send0(m, undefined, undefined, onSent)) return null;
  return new Promise((resolve) => (wake = resolve));
}

process.on("message", async (raw: unknown) => {
  const m = (raw ?? {}) as Msg;
  switch (m.cmd) {
    case "prepare":
      len = m.len ?? 0;
      payload = len > 0
        ? new TextDecoder().decode(new Uint8Array(len).fill(0x78))
        : "";
      send0({ ack: "prepared" });
      break;
    case "stream":
      for (let i = 0; i < (m.count ?? 0); i++) {
        const w = send(len > 0 ? payload : { i, s: "hello world" });
        if (w !== null) await w;
      }
      break;
    case "flood":
      send0({ ack: "flooding" });
      for (let i = 0; i < (m.max ?? 0); i++) {
        const w = send(payload);
        if (w !== null) await w;
      }
      break;
    case "exit":
      process.exit(0);
      break;
    default:
      send0(raw); // ping-pong echo
  }
});
