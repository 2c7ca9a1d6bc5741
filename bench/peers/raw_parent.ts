// raw-socketpair parent (Deno): the physical ceiling. Spawns raw_child.ts with
// node:child_process and a "pipe" on fd 3 (a Unix socketpair) and only counts
// bytes: no framing, no JSON.parse. Two read paths, picked by params.mode:
//   "data"   - the plain net.Socket "data" event (a new Buffer per chunk)
//   "onread" - net.Socket({ handle, onread: { buffer, callback } }): the kernel
//              reads into one reused 1 MiB user buffer.
// Timing, memory and stall logic mirror msg_driver.mjs. Prints one
// "@@RESULT {json}" line. Usage: deno run -A raw_parent.ts '{"workload":…}'
import { spawn } from "node:child_process";
import net from "node:net";
import {
  median,
  type Params,
  procMemory,
  resetPeak,
  type Result,
  runMain,
  sleep,
} from "./msg_driver.mjs";

const MiB = 1024 * 1024;
const childPath = new URL("./raw_child.ts", import.meta.url).pathname;
const enc = new TextEncoder();

/** Bytes of a W1 stream: `{"i":N,"s":"hello world"}\n` for N < count. */
function objectBytes(count: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) n += 24 + String(i).length;
  return n;
}

await runMain(async (p: Params): Promise<Result> => {
  const mode = p.mode ?? "data";
  const cp = spawn(Deno.execPath(), ["run", childPath], {
    stdio: ["inherit", "inherit", "inherit", "pipe"],
  });
  const childPid = cp.pid;
  if (childPid === undefined) throw new Error("spawn failed");
  const exited = new Promise((resolve) => cp.on("exit", resolve));
  const kill = () => cp.kill("SIGKILL");

  // Byte counting: `expect(n)` resolves once n more bytes have arrived.
  let want = 0;
  let got = 0;
  let tFirst = 0;
  let tLast = 0;
  let done: (() => void) | null = null;
  let fail: ((e: Error) => void) | null = null;
  const onBytes = (n: number) => {
    if (got === 0) tFirst = performance.now();
    got += n;
    if (got >= want && done !== null) {
      tLast = performance.now();
      const d = done;
      done = null;
      d();
    }
  };
  const pipe = cp.stdio[3] as net.Socket;
  let sock: net.Socket = pipe;
  if (mode === "onread") {
    const handle = (pipe as unknown as { _handle: unknown })._handle;
    const opts = {
      handle,
      onread: {
        buffer: new Uint8Array(MiB),
        callback: (n: number) => {
          onBytes(n);
          return true;
        },
      },
    };
    sock = new net.Socket(opts as unknown as net.SocketConstructorOpts);
  } else {
    pipe.on("data", (d: Uint8Array) => onBytes(d.length));
  }
  const closed = (why: string) => fail?.(new Error(`channel closed: ${why}`));
  sock.on("close", () => closed("socket closed"));
  cp.on("exit", (code) => closed(`child exited (${code})`));

  const expect = (bytes: number) => {
    want = bytes;
    got = 0;
    return new Promise<void>((resolve, reject) => {
      done = resolve;
      fail = reject;
    });
  };
  const command = async (m: unknown, replyBytes: number) => {
    const wait = expect(replyBytes);
    const t0 = performance.now();
    sock.write(enc.encode(JSON.stringify(m) + "\n"));
    await wait;
    return { t0, tFirst, tLast };
  };
  const ackLen = (what: string) => `{"ack":"${what}"}\n`.length;
  const prepare = (len: number, count: number) =>
    command({ cmd: "prepare", len, count }, ackLen("prepared"));
  const stream = (len: number, count: number) =>
    command(
      { cmd: "stream", count },
      len > 0 ? count * (len + 3) : objectBytes(count),
    );

  const self = Deno.pid;
  const res: Result = { workload: p.workload, mode };
  try {
    switch (p.workload) {
      case "check": {
        await prepare(0, 10);
        await stream(0, 10);
        await prepare(100, 3);
        await stream(100, 3);
        break;
      }
      case "stream": {
        const count = p.count ?? 0;
        const len = p.len ?? 0;
        await prepare(len, count);
        resetPeak(self);
        resetPeak(childPid);
        const idle = procMemory(self).rss;
        const childIdle = procMemory(childPid).rss;
        const t = await stream(len, count);
        res.count = count;
        res.ms = t.tLast - t.t0;
        res.firstToLastMs = t.tLast - t.tFirst;
        res.msgsPerSec = (count - 1) / (t.tLast - t.tFirst) * 1000;
        if (len > 0) res.mbPerSec = count * (len + 2) / (t.tLast - t.t0) / 1000;
        if (p.memory) {
          res.parentPeakMiB = (procMemory(self).hwm - idle) / MiB;
          res.childPeakMiB = (procMemory(childPid).hwm - childIdle) / MiB;
          res.parentIdleMiB = idle / MiB;
        }
        break;
      }
      case "pingpong": {
        const warmup = p.warmup ?? 0;
        const count = p.count ?? 0;
        let t0 = performance.now();
        for (let i = 0; i < warmup + count; i++) {
          if (i === warmup) t0 = performance.now();
          const line = `{"ping":${i}}`;
          await command({ ping: i }, line.length + 1);
        }
        const ms = performance.now() - t0;
        res.ms = ms;
        res.rtPerSec = count / ms * 1000;
        res.usPerRt = ms * 1000 / count;
        break;
      }
      case "scaling": {
        const msPerMiB: Record<string, number> = {};
        const raw: Record<string, number[]> = {};
        for (const mib of p.sizesMiB ?? []) {
          await prepare(mib * MiB, 1);
          const dts: number[] = [];
          for (let r = 0; r < (p.repeats?.[String(mib)] ?? 1); r++) {
            const t = await stream(mib * MiB, 1);
            dts.push(t.tLast - t.t0);
          }
          raw[mib] = dts;
          msPerMiB[mib] = median(dts) / mib;
        }
        res.msPerMiB = msPerMiB;
        res.raw = raw;
        break;
      }
      case "stall": {
        await prepare(p.len ?? 0, p.max ?? 0);
        await sleep(50);
        const idle = procMemory(self).rss;
        const childIdle = procMemory(childPid).rss;
        resetPeak(self);
        resetPeak(childPid);
        await command({ cmd: "flood", max: p.max }, ackLen("flooding"));
        // like the event APIs: not reading = busy event loop
        const end = performance.now() + (p.stallMs ?? 2000);
        let maxSelf = idle;
        let maxChild = childIdle;
        let nextSample = 0;
        while (performance.now() < end) {
          if (performance.now() >= nextSample) {
            maxSelf = Math.max(maxSelf, procMemory(self).rss);
            maxChild = Math.max(maxChild, procMemory(childPid).rss);
            nextSample = performance.now() + 50;
          }
        }
        const s = procMemory(self);
        const c = procMemory(childPid);
        res.stallKind = "block";
        res.parentMiB = (Math.max(maxSelf, s.hwm) - idle) / MiB;
        res.childMiB = (Math.max(maxChild, c.hwm) - childIdle) / MiB;
        res.parentEndMiB = (s.rss - idle) / MiB;
        res.childEndMiB = (c.rss - childIdle) / MiB;
        fail = null;
        kill();
        return res;
      }
      case "sweep": {
        const mbPerSec: Record<string, number> = {};
        const counts: Record<string, number> = {};
        for (const size of p.sizes ?? []) {
          const count = Math.max(
            p.minCount ?? 1,
            Math.min(p.maxCount ?? 1e9, Math.floor((p.budget ?? 0) / size)),
          );
          await prepare(size - 2, count);
          const t = await stream(size - 2, count);
          counts[size] = count;
          mbPerSec[size] = count * size / (t.tLast - t.t0) / 1000;
        }
        res.mbPerSec = mbPerSec;
        res.counts = counts;
        break;
      }
      default:
        throw new Error(`unknown workload ${p.workload}`);
    }
    fail = null;
    sock.write(enc.encode('{"cmd":"exit"}\n'));
    const t = setTimeout(kill, 5000);
    await exited;
    clearTimeout(t);
    return res;
  } catch (e) {
    kill();
    throw e;
  }
});
