/**
 * Summaries of benchmark samples, shared by the scripts in `bench/`.
 *
 * @module
 */

/** The median of `values`. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** "median (min–max)" of `values`, with `digits` decimals. */
export function spread(values: number[], digits: number): string {
  const format = (value: number) =>
    value.toLocaleString("en-US", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  return `median ${format(median(values))} (${format(Math.min(...values))}–${
    format(Math.max(...values))
  })`;
}

/** CPU time, in clock ticks, of the whole machine and of some processes. */
export interface CpuSample {
  /** Ticks all cores spent busy. */
  busy: number;
  /** Ticks all cores spent, busy or idle. */
  total: number;
  /** Ticks the given processes spent. */
  ours: number;
}

/**
 * Reads `/proc/stat` and `/proc/<pid>/stat` (Linux), to tell how much CPU
 * other processes took during a measurement. Runs `cat`: Deno lets only a
 * process with every permission read `/proc` itself.
 */
export function cpuSample(pids: number[]): CpuSample {
  const files = ["/proc/stat", ...pids.map((pid) => `/proc/${pid}/stat`)];
  const { stdout } = new Deno.Command("cat", { args: files, stderr: "null" })
    .outputSync();
  const lines = new TextDecoder().decode(stdout).split("\n");
  const ticks = lines[0].trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  const idle = ticks[3] + (ticks[4] ?? 0);
  let ours = 0;
  for (const line of lines) {
    if (!/^\d+ \(/.test(line)) continue;
    const after = line.slice(line.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15; `after` starts at field 3.
    ours += Number(after[11]) + Number(after[12]);
  }
  return { busy: total - idle, total, ours };
}

/**
 * Cores' worth of CPU that other processes used between two samples, e.g.
 * 0.9 when another benchmark kept one of the cores busy.
 */
export function otherCores(
  before: CpuSample,
  after: CpuSample,
  cores = navigator.hardwareConcurrency,
): number {
  const total = after.total - before.total;
  if (total <= 0) return 0;
  const others = after.busy - before.busy - (after.ours - before.ours);
  return Math.max(0, (others / total) * cores);
}
