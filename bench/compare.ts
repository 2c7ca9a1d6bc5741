// Comparison benchmark: @tether/ipc versus Deno's built-in IPC, Node's fork,
// Bun's IPC (when `bun` is on PATH) and a raw socketpair (the ceiling).
//
//   deno run --allow-run --allow-env --allow-read --allow-write --allow-sys \
//     bench/compare.ts [--rounds N] [--quick] [--only W1,W3,sweep]
//     [--contenders tether,deno-builtin,node-fork,bun,raw-socketpair]
//     [--timeout SECONDS-per-measurement] [--pin CPULIST]
//     [--tether-from DIR]
//
// --tether-from DIR adds a contender "tether@DIR": the same runner from
// another checkout of this repository (e.g. a `git worktree` of the commit
// before a change), so a change is measured against its parent side by side.
// --pin runs every runner (and so its child) under `taskset -c CPULIST`.
// Ping-pong (W3) on a small noisy machine is bimodal when unpinned (it
// depends on whether the two processes wake each other across cores);
// `--only W3 --pin 0` gives stable same-core latency numbers.
//
// Every measurement runs the contender's *parent* in its own process (a small
// runner under bench/peers/ that prints one "@@RESULT {json}" line), so that
// RSS numbers are clean and a crash cannot take the harness down. Contenders
// alternate inside each round (rotated every round); the tables report
// medians over rounds. Writes bench/results.md and bench/chart.svg.
import os from "node:os";
import { parseArgs } from "node:util";
import { renderChart, type Series, sizeLabel } from "./svg_chart.ts";

type Json = Record<string, unknown>;
type WorkloadId = "W1" | "W2" | "W3" | "W4" | "W5" | "sweep";

interface Contender {
  name: string;
  cmd: string[];
  extra?: Json;
}

interface Workload {
  id: WorkloadId;
  title: string;
  params: Json;
  timeoutMs: number;
  summary: (r: Json) => string;
}

interface RunOutcome {
  ok: boolean;
  result?: Json;
  error?: string;
  /** stderr of a successful run (e.g. "child did not exit … killed") */
  warning?: string;
  seconds: number;
}

const MiB = 1024 * 1024;
const here = new URL(".", import.meta.url).pathname;
const repo = new URL("..", import.meta.url).pathname;
const peer = (f: string) => `${here}peers/${f}`;
const SWEEP_SIZES = [64, 1024, 16384, 262144, MiB, 4 * MiB, 16 * MiB];

// ---------------------------------------------------------------- options --
const { values: opts } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    contenders: { type: "string" },
    timeout: { type: "string" },
    pin: { type: "string" },
    "tether-from": { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (opts.help) {
  console.log(
    "usage: deno run --allow-run --allow-env --allow-read --allow-write " +
      "--allow-sys bench/compare.ts [--rounds N] [--quick] " +
      "[--only W1,W2,W3,W4,W5,sweep] " +
      "[--contenders tether,deno-builtin,node-fork,bun,raw-socketpair] " +
      "[--timeout SECONDS] [--pin CPULIST] [--tether-from DIR]",
  );
  Deno.exit(0);
}
const rounds = Math.max(1, Number(opts.rounds) || 3);
const quick = opts.quick;
// Only a full run replaces the published results.md and chart.svg; a partial
// or quick run writes results-partial.md and chart-partial.svg (git-ignored).
const partial = quick || opts.only !== undefined ||
  opts.contenders !== undefined || opts.pin !== undefined ||
  opts["tether-from"] !== undefined;
const outName = (name: string, ext: string) =>
  `${here}${name}${partial ? "-partial" : ""}.${ext}`;

// -------------------------------------------------------------- workloads --
const num = (v: unknown) => (typeof v === "number" ? v : NaN);
const rec = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === "object" ? v as Record<string, unknown> : {};

function fmt(v: number): string {
  if (!Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString("en-US");
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** per-measurement timeout (the sweep gets twice as long) */
const T = opts.timeout ? Number(opts.timeout) * 1000 : quick ? 60_000 : 120_000;
const WORKLOADS: Workload[] = [
  {
    id: "W1",
    title: "W1 small messages",
    params: { workload: "stream", count: quick ? 20_000 : 200_000, len: 0 },
    timeoutMs: T,
    summary: (r) => `${fmt(num(r.msgsPerSec))} msg/s`,
  },
  {
    id: "W2",
    title: "W2 1 MiB messages",
    params: {
      workload: "stream",
      count: quick ? 20 : 100,
      len: MiB,
      memory: true,
    },
    timeoutMs: T,
    summary: (r) =>
      `${fmt(num(r.mbPerSec))} MB/s, parent peak +${
        fmt(num(r.parentPeakMiB))
      } MiB`,
  },
  {
    id: "W3",
    title: "W3 ping-pong",
    params: {
      workload: "pingpong",
      count: quick ? 2_000 : 20_000,
      warmup: quick ? 200 : 1_000,
    },
    timeoutMs: T,
    summary: (r) => `${fmt(num(r.rtPerSec))} rt/s`,
  },
  {
    id: "W4",
    title: "W4 one big message",
    params: {
      workload: "scaling",
      sizesMiB: [1, 16, 64],
      repeats: quick ? { 1: 3, 16: 1, 64: 1 } : { 1: 7, 16: 3, 64: 2 },
    },
    timeoutMs: T,
    summary: (r) => {
      const m = rec(r.msPerMiB);
      return `ms/MiB 1:${fmt(num(m["1"]))} 16:${fmt(num(m["16"]))} 64:${
        fmt(num(m["64"]))
      }`;
    },
  },
  {
    id: "W5",
    title: "W5 stalled reader",
    params: {
      workload: "stall",
      len: 64 * 1024,
      max: quick ? 4096 : 16384,
      stallMs: quick ? 1000 : 2000,
    },
    timeoutMs: T,
    summary: (r) =>
      `parent +${fmt(num(r.parentMiB))} MiB, child +${
        fmt(num(r.childMiB))
      } MiB`,
  },
  {
    id: "sweep",
    title: "size sweep",
    params: {
      workload: "sweep",
      sizes: SWEEP_SIZES,
      budget: quick ? 8 * MiB : 64 * MiB,
      maxCount: quick ? 10_000 : 100_000,
      minCount: quick ? 2 : 4,
    },
    timeoutMs: T * 2,
    summary: (r) => {
      const m = rec(r.mbPerSec);
      return SWEEP_SIZES.map((s) => fmt(num(m[String(s)]))).join(" / ") +
        " MB/s";
    },
  },
];

let selected = WORKLOADS;
if (opts.only) {
  const want = new Set(opts.only.split(",").map((s) => s.trim()));
  for (const w of want) {
    if (!WORKLOADS.some((x) => x.id.toLowerCase() === w.toLowerCase())) {
      console.error(`unknown workload ${w} (W1 W2 W3 W4 W5 sweep)`);
      Deno.exit(2);
    }
  }
  const has = (id: string) =>
    [...want].some((w) => w.toLowerCase() === id.toLowerCase());
  if (has("W5") && !has("W2")) {
    console.log("note: W5 needs W2 (parent peak RSS during W2): adding W2");
    want.add("W2");
  }
  selected = WORKLOADS.filter((w) => has(w.id));
}

// ------------------------------------------------------------- contenders --
const deno = Deno.execPath();
const denoRun = (f: string) => [deno, "run", "-A", peer(f)];

async function version(cmd: string, args: string[]): Promise<string | null> {
  try {
    const o = await new Deno.Command(cmd, { args, stdout: "piped" }).output();
    return o.success ? new TextDecoder().decode(o.stdout).trim() : null;
  } catch {
    return null;
  }
}
const nodeVersion = await version("node", ["--version"]);
const bunVersion = await version("bun", ["--version"]);

const ALL: Contender[] = [
  { name: "tether", cmd: denoRun("tether_parent.ts") },
  { name: "deno-builtin", cmd: denoRun("deno_builtin_parent.ts") },
  { name: "node-fork", cmd: ["node", peer("node_parent.mjs")] },
  { name: "bun", cmd: ["bun", peer("bun_parent.mjs")] },
  {
    name: "raw-data",
    cmd: denoRun("raw_parent.ts"),
    extra: { mode: "data" },
  },
  {
    name: "raw-onread",
    cmd: denoRun("raw_parent.ts"),
    extra: { mode: "onread" },
  },
];
const tetherFrom = opts["tether-from"];
if (tetherFrom !== undefined) {
  ALL.splice(1, 0, {
    name: `tether@${tetherFrom}`,
    cmd: [deno, "run", "-A", `${tetherFrom}/bench/peers/tether_parent.ts`],
  });
}
const notes: string[] = [];
let wanted = ALL.map((c) => c.name);
if (opts.contenders) {
  wanted = opts.contenders.split(",").map((s) => s.trim()).flatMap((s) =>
    s === "raw-socketpair" || s === "raw" ? ["raw-data", "raw-onread"] : [s]
  );
  if (tetherFrom !== undefined) wanted.push(`tether@${tetherFrom}`);
  for (const w of wanted) {
    if (!ALL.some((c) => c.name === w)) {
      console.error(`unknown contender ${w}`);
      Deno.exit(2);
    }
  }
}
if (nodeVersion === null && wanted.includes("node-fork")) {
  notes.push("node-fork skipped: `node` is not on PATH");
  wanted = wanted.filter((n) => n !== "node-fork");
}
if (bunVersion === null && wanted.includes("bun")) {
  if (opts.contenders) notes.push("bun skipped: `bun` is not on PATH");
  wanted = wanted.filter((n) => n !== "bun");
}
let contenders = ALL.filter((c) => wanted.includes(c.name));

// ---------------------------------------------------- process management --
/** pid -> child pids, from `ps` (Deno needs --allow-all to read /proc). */
async function ppidMap(): Promise<Map<number, number[]>> {
  const kids = new Map<number, number[]>();
  const add = (pid: number, ppid: number) => {
    const list = kids.get(ppid) ?? [];
    list.push(pid);
    kids.set(ppid, list);
  };
  try {
    const o = await new Deno.Command("ps", {
      args: ["-e", "-o", "pid=,ppid="],
      stdout: "piped",
    }).output();
    for (const line of new TextDecoder().decode(o.stdout).split("\n")) {
      const [pid, ppid] = line.trim().split(/\s+/).map(Number);
      if (pid > 0) add(pid, ppid);
    }
    if (kids.size > 0) return kids;
  } catch {
    // no ps: try /proc (readable when run with -A)
  }
  try {
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      try {
        const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
        add(
          Number(e.name),
          Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]),
        );
      } catch {
        // vanished
      }
    }
  } catch {
    // no access
  }
  return kids;
}

/** SIGKILLs a runner we started and every process below it. */
async function killTree(pid: number): Promise<void> {
  const kids = await ppidMap();
  const all: number[] = [];
  const walk = (p: number) => {
    all.push(p);
    for (const k of kids.get(p) ?? []) walk(k);
  };
  walk(pid);
  for (const p of all) {
    try {
      Deno.kill(p, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

const withTimeout = <T>(p: Promise<T>, ms: number, fallback: T) =>
  Promise.race([p, new Promise<T>((r) => setTimeout(() => r(fallback), ms))]);

async function runOne(
  c: Contender,
  params: Json,
  timeoutMs: number,
): Promise<RunOutcome> {
  const t0 = performance.now();
  const cmd = opts.pin ? ["taskset", "-c", opts.pin, ...c.cmd] : c.cmd;
  const args = [...cmd.slice(1), JSON.stringify({ ...params, ...c.extra })];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd[0], {
      args,
      cwd: repo,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    return { ok: false, error: `cannot start: ${e}`, seconds: 0 };
  }
  const out = new Response(child.stdout).text();
  const err = new Response(child.stderr).text();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((r) => {
    timer = setTimeout(() => r("timeout"), timeoutMs);
  });
  const status = await Promise.race([child.status, timedOut]);
  clearTimeout(timer);
  if (status === "timeout") await killTree(child.pid);
  // a surviving grandchild could keep the pipes open: never wait forever
  const stdout = await withTimeout(out, 3000, "");
  const stderr = await withTimeout(err, 3000, "");
  await withTimeout(child.status, 3000, null);
  const seconds = (performance.now() - t0) / 1000;
  const tail = stderr.trim().split("\n").slice(-6).join("\n");
  if (status === "timeout") {
    return {
      ok: false,
      seconds,
      error: `timed out after ${timeoutMs / 1000} s (killed)` +
        (tail ? `\n${tail}` : ""),
    };
  }
  const line = stdout.split("\n").reverse().find((l) =>
    l.startsWith("@@RESULT ")
  );
  if (!status.success || line === undefined) {
    return {
      ok: false,
      seconds,
      error:
        `exit code ${status.code}${status.signal ? " " + status.signal : ""}` +
        (tail ? `\n${tail}` : ""),
    };
  }
  const result = JSON.parse(line.slice(9));
  return tail
    ? { ok: true, seconds, result, warning: tail }
    : { ok: true, seconds, result };
}

// ---------------------------------------------------------------- preflight --
const tStart = performance.now();
console.log(
  `@tether/ipc comparison: ${rounds} round(s)${quick ? ", QUICK" : ""}; ` +
    `workloads ${selected.map((w) => w.id).join(" ")}; ` +
    (opts.pin ? `pinned to CPU ${opts.pin}; ` : "") +
    `contenders ${contenders.map((c) => c.name).join(" ")}`,
);
for (const n of notes) console.log(n);
const dropped: Record<string, string> = {};
for (const c of contenders) {
  const r = await runOne(c, { workload: "check" }, 30_000);
  if (!r.ok) {
    dropped[c.name] = r.error ?? "failed";
    console.log(
      `preflight ${c.name}: FAILED, excluded\n  ${
        (r.error ?? "").split("\n").join("\n  ")
      }`,
    );
  } else console.log(`preflight ${c.name}: ok (${r.seconds.toFixed(1)} s)`);
}
contenders = contenders.filter((c) => !(c.name in dropped));
if (contenders.length === 0) {
  console.error("no contender passed the preflight check");
  Deno.exit(1);
}

// -------------------------------------------------------------- measuring --
/** results[workload][contender] = one outcome per round */
const results: Record<string, Record<string, RunOutcome[]>> = {};
for (const w of selected) {
  results[w.id] = {};
  for (const c of contenders) results[w.id][c.name] = [];
}
for (let round = 1; round <= rounds; round++) {
  const shift = (round - 1) % contenders.length;
  const order = [...contenders.slice(shift), ...contenders.slice(0, shift)];
  for (const w of selected) {
    for (const c of order) {
      const head = `round ${round}/${rounds}: ${w.id} ${c.name} …`;
      await Deno.stdout.write(new TextEncoder().encode(head));
      const r = await runOne(c, w.params, w.timeoutMs);
      results[w.id][c.name].push(r);
      console.log(
        r.ok && r.result
          ? ` ${w.summary(r.result)} (${r.seconds.toFixed(1)} s)`
          : ` FAILED: ${(r.error ?? "").split("\n").join("\n    ")}`,
      );
      if (r.warning) {
        console.log(`    stderr: ${r.warning.split("\n").join("\n    ")}`);
      }
    }
  }
}
const totalSeconds = (performance.now() - tStart) / 1000;

// ----------------------------------------------------------------- tables --
function median(values: number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}
function med(w: WorkloadId, c: string, get: (r: Json) => number): number {
  const runs = results[w]?.[c] ?? [];
  return median(
    runs.filter((r) => r.ok && r.result).map((r) => get(r.result!)),
  );
}
const names = contenders.map((c) => c.name);
const has = (n: string) => names.includes(n);
interface Row {
  label: string;
  w: WorkloadId;
  get: (r: Json) => number;
  /** higher is better (throughput) or lower (time, memory) */
  higher: boolean;
  /** show "tether is N× …" ratios */
  ratios: boolean;
  targets?: { vs: string; min: number }[];
  /** absolute limit on tether's own value (lower is better) */
  max?: number;
  /** value computed from other medians instead of `get` */
  derived?: (c: string) => number;
}
const msPerMiB = (k: string) => (r: Json) => num(rec(r.msPerMiB)[k]);
const ROWS: Row[] = [
  {
    label: "W1 small msgs/s (↑)",
    w: "W1",
    get: (r) => num(r.msgsPerSec),
    higher: true,
    ratios: true,
    targets: [{ vs: "deno-builtin", min: 4 }, { vs: "node-fork", min: 3 }],
  },
  {
    label: "W2 1 MiB msgs, MB/s (↑)",
    w: "W2",
    get: (r) => num(r.mbPerSec),
    higher: true,
    ratios: true,
    targets: [
      { vs: "deno-builtin", min: 1.5 },
      { vs: "node-fork", min: 2 },
      { vs: "raw", min: 0.6 },
    ],
  },
  {
    label: "W3 ping-pong round trips/s (↑)",
    w: "W3",
    get: (r) => num(r.rtPerSec),
    higher: true,
    ratios: true,
    targets: [{ vs: "deno-builtin", min: 1.5 }, { vs: "node-fork", min: 1.5 }],
  },
  {
    label: "W4 1 MiB msg, ms/MiB (↓)",
    w: "W4",
    get: msPerMiB("1"),
    higher: false,
    ratios: true,
  },
  {
    label: "W4 16 MiB msg, ms/MiB (↓)",
    w: "W4",
    get: msPerMiB("16"),
    higher: false,
    ratios: true,
  },
  {
    label: "W4 64 MiB msg, ms/MiB (↓)",
    w: "W4",
    get: msPerMiB("64"),
    higher: false,
    ratios: true,
  },
  {
    label: "W4 per-MiB ratio 64 MiB / 1 MiB (↓)",
    w: "W4",
    get: () => NaN,
    derived: (c) => med("W4", c, msPerMiB("64")) / med("W4", c, msPerMiB("1")),
    higher: false,
    ratios: false,
    max: 1.5,
  },
  {
    label: "W5 parent peak RSS during W2, MiB above idle (↓)",
    w: "W2",
    get: (r) => num(r.parentPeakMiB),
    higher: false,
    ratios: false,
    max: 100,
  },
  {
    label: "W5 stalled reader: parent RSS growth, MiB (↓)",
    w: "W5",
    get: (r) => num(r.parentMiB),
    higher: false,
    ratios: false,
    max: 64,
  },
  {
    label: "W5 stalled reader: child (sender) RSS growth, MiB (↓)",
    w: "W5",
    get: (r) => num(r.childMiB),
    higher: false,
    ratios: false,
    max: 64,
  },
];

const short: Record<string, string> = {
  "deno-builtin": "builtin",
  "node-fork": "node",
  bun: "bun",
  raw: "raw",
};
const value = (row: Row, c: string) =>
  row.derived ? row.derived(c) : med(row.w, c, row.get);
const refValue = (row: Row, vs: string) =>
  vs === "raw" ? rawCeiling(row) : has(vs) ? value(row, vs) : NaN;
/** The better of the two raw read paths (the physical ceiling). */
const rawCeiling = (row: Row) => {
  const v = ["raw-data", "raw-onread"].filter(has).map((c) => value(row, c))
    .filter(Number.isFinite);
  if (v.length === 0 || row.derived) return NaN;
  return row.higher ? Math.max(...v) : Math.min(...v);
};
/** Which raw read path is the ceiling for this row. */
const rawName = (row: Row) => {
  const d = has("raw-data") ? value(row, "raw-data") : NaN;
  const o = has("raw-onread") ? value(row, "raw-onread") : NaN;
  if (!Number.isFinite(d)) return "raw (onread)";
  if (!Number.isFinite(o)) return "raw (data)";
  return (row.higher ? o >= d : o <= d) ? "raw (onread)" : "raw (data)";
};
/** "tether is N× better than vs" (>1 = tether ahead) */
const ratio = (row: Row, vs: string) => {
  const t = value(row, "tether"), o = refValue(row, vs);
  return row.higher ? t / o : o / t;
};

interface Verdict {
  text: string;
  met: boolean | null;
}
const verdicts: { row: string; target: string; v: Verdict }[] = [];
function judge(row: Row): { target: string; verdict: Verdict } {
  if (!has("tether") || !selected.some((w) => w.id === row.w)) {
    return { target: "", verdict: { text: "", met: null } };
  }
  const parts: string[] = [];
  const fails: string[] = [];
  let missing = false;
  let any = false;
  if (row.targets) {
    for (const t of row.targets) {
      parts.push(`≥${t.min}× ${short[t.vs]}`);
      const r = ratio(row, t.vs);
      if (!Number.isFinite(r)) missing = true;
      else if (r < t.min) fails.push(`${short[t.vs]} ${r.toFixed(2)}×`);
      any = true;
    }
  }
  if (row.max !== undefined) {
    parts.push(`≤ ${row.max}${row.derived ? "" : " MiB"}`);
    const v = value(row, "tether");
    if (!Number.isFinite(v)) missing = true;
    else if (v > row.max) fails.push(fmt(v));
    any = true;
  }
  if (!any) return { target: "", verdict: { text: "", met: null } };
  const target = parts.join(", ");
  const verdict: Verdict = fails.length > 0
    ? { text: `NOT MET (${fails.join(", ")})`, met: false }
    : missing
    ? { text: "n/a (missing data)", met: null }
    : { text: "met", met: true };
  verdicts.push({ row: row.label, target, v: verdict });
  return { target, verdict };
}

const label = (c: string) =>
  c === "raw-data" ? "raw (data)" : c === "raw-onread" ? "raw (onread)" : c;
function mainTable(): string {
  const head = [
    "metric",
    ...names.map(label),
    "tether ratios",
    "target",
    "met",
  ];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
  ];
  for (const row of ROWS) {
    if (!selected.some((w) => w.id === row.w)) continue;
    const cells = names.map((c) => fmt(value(row, c)));
    let ratios = "";
    if (row.ratios && has("tether")) {
      const vs = ["deno-builtin", "node-fork", "bun", "raw"].filter((v) =>
        v === "raw" ? has("raw-data") || has("raw-onread") : has(v)
      );
      ratios = vs.map((v) =>
        `${ratio(row, v).toFixed(2)}× ${v === "raw" ? rawName(row) : short[v]}`
      )
        .filter((s) => !s.startsWith("NaN")).join(", ");
    }
    const { target, verdict } = judge(row);
    lines.push(
      `| ${[row.label, ...cells, ratios, target, verdict.text].join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

/** min – max over rounds, to show how noisy each median is */
function spreadTable(): string {
  const head = ["metric", ...names.map(label)];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
  ];
  for (const row of ROWS) {
    if (row.derived || !selected.some((w) => w.id === row.w)) continue;
    const cells = names.map((c) => {
      const v = (results[row.w]?.[c] ?? []).filter((r) => r.ok && r.result)
        .map((r) => row.get(r.result!)).filter(Number.isFinite);
      return v.length ? `${fmt(Math.min(...v))} – ${fmt(Math.max(...v))}` : "–";
    });
    lines.push(`| ${[row.label, ...cells].join(" | ")} |`);
  }
  return lines.join("\n");
}

function sweepMedians(c: string): number[] {
  return SWEEP_SIZES.map((s) =>
    med("sweep", c, (r) => num(rec(r.mbPerSec)[String(s)]))
  );
}
function sweepTable(): string {
  const head = ["message size", ...names.map(label)];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
  ];
  const cols = names.map(sweepMedians);
  SWEEP_SIZES.forEach((s, i) => {
    lines.push(
      `| ${[sizeLabel(s), ...cols.map((col) => fmt(col[i]))].join(" | ")} |`,
    );
  });
  return lines.join("\n");
}

function rawRounds(): string {
  const out: string[] = [];
  for (const w of selected) {
    out.push(`### ${w.title} (${w.id})`, "");
    out.push("```text");
    for (const c of names) {
      out.push(`${c}:`);
      results[w.id][c].forEach((r, i) => {
        const body = r.ok && r.result
          ? JSON.stringify(r.result) +
            (r.warning ? ` (stderr: ${r.warning.replace(/\n/g, " | ")})` : "")
          : `FAILED ${(r.error ?? "").replace(/\n/g, " | ")}`;
        out.push(`  round ${i + 1} (${r.seconds.toFixed(1)} s): ${body}`);
      });
    }
    out.push("```", "");
  }
  return out.join("\n");
}

// ----------------------------------------------------------------- output --
const table = mainTable();
const sweep = selected.some((w) => w.id === "sweep") ? sweepTable() : "";
console.log(`\nMedians of ${rounds} round(s) — ${totalSeconds.toFixed(0)} s\n`);
console.log(table);
if (sweep) console.log(`\nSize sweep, MB/s (child → parent)\n\n${sweep}`);
const metCount = verdicts.filter((v) => v.v.met === true).length;
const judged = verdicts.filter((v) => v.v.met !== null).length;
console.log(`\ntether targets met: ${metCount}/${judged}`);
for (const [n, e] of Object.entries(dropped)) {
  console.log(`excluded ${n}: ${e.split("\n")[0]}`);
}

const cpu = (() => {
  try {
    return os.cpus()[0]?.model ?? "unknown";
  } catch {
    return "unknown";
  }
})();
const uname = (await version("uname", ["-srm"])) ?? "unknown";
const argv = Deno.args.join(" ");
const md = `# @tether/ipc comparison benchmark

- date: ${new Date().toISOString()}
- command: \`deno run --allow-run --allow-env --allow-read --allow-write --allow-sys bench/compare.ts${
  argv ? " " + argv : ""
}\`${quick ? " (QUICK smoke run: small counts, not representative)" : ""}
- CPU pinning: ${
  opts.pin ? `every process under \`taskset -c ${opts.pin}\`` : "none"
}
- rounds: ${rounds} (contenders alternate within each round, order rotated per round; medians reported)
- run time: ${totalSeconds.toFixed(0)} s
- machine: ${uname}; CPU: ${cpu}; ${navigator.hardwareConcurrency} cores
- versions: Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), Node ${
  nodeVersion ?? "absent"
}, Bun ${bunVersion ?? "not installed"}
${
  Object.entries(dropped).map(([n, e]) =>
    `- excluded ${n} (preflight failed): ${e.split("\n")[0]}`
  ).join("\n")
}${notes.map((n) => `\n- ${n}`).join("")}

## Results (medians)

${table}

tether targets met: ${metCount}/${judged}. Ratios are "tether is N× better":
throughput tether/other, time other/tether. "raw" is the faster of the two raw
socketpair read paths (the physical ceiling; it moves pre-built bytes, no JSON).

Spread over rounds (min – max); the machine is noisy, ping-pong most of all:

${spreadTable()}
${
  sweep
    ? `
## Size sweep: throughput MB/s vs message size (child → parent)

${sweep}

![throughput vs message size](${partial ? "chart-partial.svg" : "chart.svg"})
`
    : ""
}
## Method

- Each measurement starts a fresh parent process (runner in \`bench/peers/\`)
  which spawns its child; parent and child agree on a tiny command protocol
  (prepare payload → ack → go). Timing is done in the parent with
  \`performance.now()\`: W2/sweep/W4 from sending "go" to receiving the last
  message (JSON.stringify in the child and JSON.parse in the parent included);
  W1 from first to last message ((N-1)/Δt); W3 after ${
  quick ? 200 : 1000
} warm-up round trips.
- raw: pre-built bytes over the same kind of socketpair, both ends Deno
  node:net, no JSON. Its ping-pong (W3) echoes lines, so it is a reference,
  not a strict latency ceiling. Unpinned ping-pong on a 2-core machine is
  bimodal (same-core vs cross-core wake-ups): read W3 together with its spread,
  or rerun it with \`--only W3 --pin 0\`.
- Payloads: W1 \`{i, s: "hello world"}\`; W2/W4 a string of N MiB of "x";
  sweep: a string whose JSON is exactly the given size. MB = 10⁶ bytes.
- Memory: Linux /proc/<pid>/status. Peaks use VmHWM after resetting it
  (\`echo 5 > /proc/<pid>/clear_refs\`) right before "go"; "idle" is VmRSS at
  that moment.
- W5 stalled reader: after "go" the child sends 64 KiB strings as fast as it
  can (at most ${quick ? 4096 : 16384} of them) while the parent does not read
  for ${
  quick ? 1 : 2
} s. tether's parent simply stops pulling its async iterator (event loop
  free). The callback APIs (deno-builtin, node-fork, bun) and the raw parent
  offer no way to stop reading, so their parent blocks its event loop instead.
- Senders' backpressure, each peer's natural way: tether \`await ipc.send(m)\`;
  Node and Deno built-in \`process.send(m, cb)\`, and when it returns false,
  wait for a send callback (Deno returns false whenever more than 128 KiB is
  queued, i.e. for every message larger than 128 KiB); Bun: same code, but Bun's
  \`process.send\` never returns false, so its child queues without bound;
  raw: \`socket.write()\` + "drain".

## What each optimisation bought

${section("optimizations.md")}
## Calls and the pool (issue 4)

${section("calls_and_pool.md")}
## Calls over NATS (issue 12)

${section("nats.md")}
## Raw per-round numbers

${rawRounds()}`;
Deno.writeTextFileSync(outName("results", "md"), md);

/** A hand-written file of bench/, without its title, its headings one level down. */
function section(file: string): string {
  return Deno.readTextFileSync(`${here}${file}`)
    .replace(/^# .*\n+/, "")
    .replace(/^## /gm, "### ");
}

if (selected.some((w) => w.id === "sweep")) {
  const series: Series[] = names.map((c) => ({
    name: label(c),
    points: SWEEP_SIZES.map((
      s,
      i,
    ): [number, number] => [s, sweepMedians(c)[i]]),
  }));
  Deno.writeTextFileSync(
    outName("chart", "svg"),
    renderChart(
      series,
      SWEEP_SIZES,
      "JSON IPC throughput vs message size (child → parent)",
      `median of ${rounds} round(s), ${cpu}, ${navigator.hardwareConcurrency} cores, ` +
        `${new Date().toISOString().slice(0, 10)}${quick ? ", QUICK run" : ""}`,
    ),
  );
}
console.log(
  `\nwrote ${outName("results", "md")}${
    sweep ? ` and ${outName("chart", "svg")}` : ""
  }`,
);
