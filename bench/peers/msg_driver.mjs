// @ts-self-types="./msg_driver.d.ts"
// Shared measurement logic for every message-based contender (tether,
// deno-builtin, node-fork, bun). It is plain JavaScript so that Deno, Node and
// Bun parents all run the very same code; each parent only supplies a small
// channel adapter (send / kill / pause) and feeds incoming messages to
// `Driver.deliver`. Child protocol (see *_child.* files):
//   {cmd:"prepare", len, count} -> child builds its payload, replies {ack:"prepared"}
//   {cmd:"stream", count}       -> child sends `count` payloads as fast as it can
//   {cmd:"flood", max}          -> child replies {ack:"flooding"}, then sends up to `max` payloads
//   {cmd:"exit"}                -> child closes the channel and exits
//   anything else               -> echoed back (ping-pong)
// Payload: len > 0 -> a string of `len` "x" (JSON length len + 2);
//          len = 0 -> the small object {i, s: "hello world"}.
import fs from "node:fs";
import process from "node:process";

const MiB = 1024 * 1024;

/** VmRSS and VmHWM (peak RSS) of a process, in bytes, from /proc. */
export function procMemory(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : NaN;
  };
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

/** Resets VmHWM of `pid` to its current RSS (Linux: echo 5 > clear_refs). */
export function resetPeak(pid) {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Pids of the direct children of `ppid` (scans /proc). */
export function childPids(ppid) {
  const out = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      // the command name may contain spaces/parens: ppid is 2 fields after ")"
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(rest[1]) === ppid) out.push(Number(name));
    } catch {
      // process vanished while scanning
    }
  }
  return out;
}

export function median(values) {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Prints the result line that compare.ts parses. */
export function printResult(result) {
  console.log("@@RESULT " + JSON.stringify(result));
}

export class Driver {
  #queue = [];
  #waiters = [];
  #sink = null;
  #closed = null;
  #onClose = [];

  /** The adapter calls this for every message received from the child. */
  deliver(msg) {
    if (this.#sink !== null) {
      this.#sink(msg);
      return;
    }
    const w = this.#waiters.shift();
    if (w) w.resolve(msg);
    else this.#queue.push(msg);
  }

  /** The adapter calls this when the channel ends (child exit, error). */
  close(reason) {
    if (this.#closed !== null) return;
    this.#closed = new Error(`channel closed: ${reason}`);
    for (const w of this.#waiters.splice(0)) w.reject(this.#closed);
    for (const f of this.#onClose.splice(0)) f(this.#closed);
  }

  /** Next message not consumed by a sink. */
  next() {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift());
    if (this.#closed !== null) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) =>
      this.#waiters.push({ resolve, reject })
    );
  }

  /** Runs `attach(resolve)` and rejects if the channel closes first. */
  #untilDone(attach) {
    return new Promise((resolve, reject) => {
      if (this.#closed !== null) return reject(this.#closed);
      this.#onClose.push(reject);
      attach(resolve);
    });
  }

  async #expectAck(what) {
    const m = await this.next();
    if (m === null || typeof m !== "object" || m.ack !== what) {
      throw new Error(`expected ack ${what}, got ${JSON.stringify(m)}`);
    }
  }

  async #prepare(chan, len, count) {
    await send(chan, { cmd: "prepare", len, count });
    await this.#expectAck("prepared");
  }

  /** Child streams `count` prepared payloads; timing taken in the parent. */
  async #stream(chan, count, len) {
    let n = 0;
    let tFirst = 0;
    let tLast = 0;
    let last = null;
    const done = this.#untilDone((resolve) => {
      this.#sink = (m) => {
        if (n === 0) tFirst = performance.now();
        if (++n === count) {
          tLast = performance.now();
          last = m;
          this.#sink = null;
          resolve();
        }
      };
    });
    const t0 = performance.now();
    await send(chan, { cmd: "stream", count });
    await done;
    const ok = len > 0
      ? typeof last === "string" && last.length === len
      : last !== null && typeof last === "object" && last.i === count - 1 &&
        last.s === "hello world";
    if (!ok) throw new Error("last streamed message has the wrong content");
    return { t0, tFirst, tLast };
  }

  /** Runs one workload against a started child and returns its numbers. */
  async run(chan, p) {
    const self = process.pid;
    const res = { workload: p.workload };
    switch (p.workload) {
      case "check": {
        await this.#prepare(chan, 0, 10);
        await this.#stream(chan, 10, 0);
        await this.#prepare(chan, 100, 3);
        await this.#stream(chan, 3, 100);
        for (let i = 0; i < 10; i++) {
          await send(chan, { ping: i });
          const r = await this.next();
          if (r?.ping !== i) throw new Error("bad echo");
        }
        break;
      }
      case "stream": { // W1 (len 0) and W2 (len 1 MiB, memory: true)
        await this.#prepare(chan, p.len, p.count);
        let idle = 0;
        let childIdle = 0;
        if (p.memory) {
          resetPeak(self);
          resetPeak(chan.childPid);
          idle = procMemory(self).rss;
          childIdle = procMemory(chan.childPid).rss;
        }
        const t = await this.#stream(chan, p.count, p.len);
        const bytes = p.count * (p.len > 0 ? p.len + 2 : 0);
        res.count = p.count;
        res.ms = t.tLast - t.t0;
        res.firstToLastMs = t.tLast - t.tFirst;
        res.msgsPerSec = (p.count - 1) / (t.tLast - t.tFirst) * 1000;
        if (bytes > 0) res.mbPerSec = bytes / (t.tLast - t.t0) / 1000;
        if (p.memory) {
          res.parentPeakMiB = (procMemory(self).hwm - idle) / MiB;
          res.childPeakMiB = (procMemory(chan.childPid).hwm - childIdle) / MiB;
          res.parentIdleMiB = idle / MiB;
        }
        break;
      }
      case "pingpong": { // W3
        let t0 = performance.now();
        for (let i = 0; i < p.warmup + p.count; i++) {
          if (i === p.warmup) t0 = performance.now();
          await send(chan, { ping: i });
          const r = await this.next();
          if (r?.ping !== i) throw new Error(`bad echo ${JSON.stringify(r)}`);
        }
        const ms = performance.now() - t0;
        res.ms = ms;
        res.rtPerSec = p.count / ms * 1000;
        res.usPerRt = ms * 1000 / p.count;
        break;
      }
      case "scaling": { // W4: one message of N MiB, child -> parent
        res.msPerMiB = {};
        res.raw = {};
        for (const mib of p.sizesMiB) {
          await this.#prepare(chan, mib * MiB, 1);
          const dts = [];
          for (let r = 0; r < (p.repeats[String(mib)] ?? 1); r++) {
            const t = await this.#stream(chan, 1, mib * MiB);
            dts.push(t.tLast - t.t0);
          }
          res.raw[mib] = dts;
          res.msPerMiB[mib] = median(dts) / mib;
        }
        break;
      }
      case "stall": { // W5: child floods, parent does not read for stallMs
        await this.#prepare(chan, p.len, p.max);
        await sleep(50);
        const idle = procMemory(self).rss;
        const childIdle = procMemory(chan.childPid).rss;
        resetPeak(self);
        resetPeak(chan.childPid);
        await send(chan, { cmd: "flood", max: p.max });
        await this.#expectAck("flooding");
        const end = performance.now() + p.stallMs;
        let maxSelf = idle;
        let maxChild = childIdle;
        const sample = () => {
          maxSelf = Math.max(maxSelf, procMemory(self).rss);
          maxChild = Math.max(maxChild, procMemory(chan.childPid).rss);
        };
        if (chan.stallKind === "pull") {
          chan.pause(); // stop pulling; event loop stays free
          while (performance.now() < end) {
            sample();
            await sleep(50);
          }
        } else {
          // event-style API: the only way not to read is a busy event loop
          let nextSample = 0;
          while (performance.now() < end) {
            if (performance.now() >= nextSample) {
              sample();
              nextSample = performance.now() + 50;
            }
          }
        }
        sample();
        const self2 = procMemory(self);
        const child2 = procMemory(chan.childPid);
        res.stallKind = chan.stallKind;
        res.parentMiB = (Math.max(maxSelf, self2.hwm) - idle) / MiB;
        res.childMiB = (Math.max(maxChild, child2.hwm) - childIdle) / MiB;
        res.parentEndMiB = (self2.rss - idle) / MiB;
        res.childEndMiB = (child2.rss - childIdle) / MiB;
        this.#sink = () => {}; // drop whatever still arrives
        chan.kill();
        return res;
      }
      case "sweep": { // throughput vs message size (size = JSON length)
        res.mbPerSec = {};
        res.counts = {};
        for (const size of p.sizes) {
          const count = Math.max(
            p.minCount,
            Math.min(p.maxCount, Math.floor(p.budget / size)),
          );
          await this.#prepare(chan, size - 2, count);
          const t = await this.#stream(chan, count, size - 2);
          res.counts[size] = count;
          res.mbPerSec[size] = count * size / (t.tLast - t.t0) / 1000;
        }
        break;
      }
      default:
        throw new Error(`unknown workload ${p.workload}`);
    }
    await this.finish(chan);
    return res;
  }

  /** Asks the child to exit; kills it if it has not exited within 5 s. */
  async finish(chan) {
    await send(chan, { cmd: "exit" });
    const t = setTimeout(() => {
      console.error("child did not exit within 5 s after {cmd:'exit'}: killed");
      chan.kill();
    }, 5000);
    await chan.exited;
    clearTimeout(t);
  }
}

/** Sends and awaits only when the contender's send returns a promise. */
function send(chan, msg) {
  const p = chan.send(msg);
  return p === undefined ? Promise.resolve() : p;
}

/** Reads the JSON parameter argument and runs `main`, printing its result. */
export async function runMain(main) {
  const arg = process.argv.find((a) => a.startsWith("{"));
  if (arg === undefined) throw new Error("missing JSON parameter argument");
  const params = JSON.parse(arg);
  try {
    printResult(await main(params));
    process.exit(0);
  } catch (e) {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  }
}
