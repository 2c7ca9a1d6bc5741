// raw-socketpair child (Deno): the physical ceiling. Speaks the same command
// protocol as the message children (JSON lines from the parent), but answers
// with pre-built bytes written straight to fd 3 through node:net
// (`new net.Socket({ fd: 3 })`), honouring write()/"drain" backpressure.
// Stream payloads are the exact bytes a JSON channel would carry
// (`"xxxx…"\n` or `{"i":N,"s":"hello world"}\n`), batched into ≤256 KiB writes,
// so no serialization cost is included. Pings are echoed line by line.
import net from "node:net";
import type { Buffer } from "node:buffer";

type Msg = { cmd?: string; len?: number; count?: number; max?: number };

const sock = new net.Socket({ fd: 3 });
const enc = new TextEncoder();
const BATCH = 256 * 1024;
let message = new Uint8Array(0); // one message incl. "\n" (len > 0)
let objectBatches: Uint8Array[] = []; // all of W1 when len = 0

/** Writes `buf` and waits for "drain" when the socket asks us to. */
function write(buf: Uint8Array): Promise<void> | null {
  if (sock.write(buf)) return null;
  return new Promise((resolve) => sock.once("drain", resolve));
}

function prepare(len: number, count: number): void {
  if (len === 0) {
    objectBatches = [];
    let text = "";
    for (let i = 0; i < count; i++) {
      text += `{"i":${i},"s":"hello world"}\n`;
      if (text.length >= BATCH) {
        objectBatches.push(enc.encode(text));
        text = "";
      }
    }
    if (text.length > 0) objectBatches.push(enc.encode(text));
  } else {
    message = new Uint8Array(len + 3).fill(0x78);
    message[0] = message[len + 1] = 0x22; // quotes
    message[len + 2] = 0x0a;
  }
}

async function stream(len: number, count: number): Promise<void> {
  if (len === 0) {
    for (const b of objectBatches) await write(b);
    return;
  }
  // Small messages: repeat one batch holding k messages.
  const k = Math.max(1, Math.floor(BATCH / message.length));
  const batch = new Uint8Array(k * message.length);
  for (let j = 0; j < k; j++) batch.set(message, j * message.length);
  let left = count;
  while (left >= k) {
    await write(k === 1 ? message : batch);
    left -= k;
  }
  if (left > 0) await write(batch.subarray(0, left * message.length));
}

let len = 0;
let pending = "";
let chain: Promise<void> = Promise.resolve();

async function handle(line: string): Promise<void> {
  const m = JSON.parse(line) as Msg;
  switch (m.cmd) {
    case "prepare":
      len = m.len ?? 0;
      prepare(len, m.count ?? 0);
      await write(enc.encode('{"ack":"prepared"}\n'));
      break;
    case "stream":
      await stream(len, m.count ?? 0);
      break;
    case "flood":
      await write(enc.encode('{"ack":"flooding"}\n'));
      for (let i = 0; i < (m.max ?? 0); i++) await write(message);
      break;
    case "exit":
      sock.end(() => Deno.exit(0));
      break;
    default:
      await write(enc.encode(line + "\n")); // ping-pong echo
  }
}

sock.on("data", (chunk: Buffer) => {
  pending += chunk.toString("utf8");
  let nl: number;
  while ((nl = pending.indexOf("\n")) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    chain = chain.then(() => handle(line));
  }
});
sock.on("end", () => Deno.exit(0));
