/**
 * Shared helpers of the integration tests: starting fixture children and
 * turning a hang into a clear failure.
 *
 * @module
 */

import {
  type IpcChildProcess,
  spawnWithIpc,
  type SpawnWithIpcOptions,
} from "../mod.ts";

/** Absolute path of a script in `tests/fixtures/`. */
export function fixture(name: string): string {
  return new URL(`./fixtures/${name}`, import.meta.url).pathname;
}

/**
 * Starts a fixture with `deno run`, with exactly the permission flags given
 * (none by default).
 */
export function spawnFixture<In = unknown, Out = unknown>(
  name: string,
  args: string[] = [],
  options: SpawnWithIpcOptions<In> & { flags?: string[] } = {},
): IpcChildProcess<In, Out> {
  const { flags = [], ...rest } = options;
  return spawnWithIpc<In, Out>(Deno.execPath(), {
    ...rest,
    args: ["run", "--quiet", ...flags, fixture(name), ...args],
  });
}

/**
 * Fails with `what` if `promise` has not settled after `ms` milliseconds, so
 * a broken test fails instead of hanging. Not a timing assertion: the limits
 * are many times what the work needs.
 */
export async function within<T>(
  promise: Promise<T>,
  what: string,
  ms = 30_000,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Collects every message until the iterator ends, or the error it throws. */
export async function collect(
  messages: AsyncIterable<unknown>,
): Promise<{ messages: unknown[]; error: unknown }> {
  const seen: unknown[] = [];
  try {
    for await (const message of messages) seen.push(message);
  } catch (error) {
    return { messages: seen, error };
  }
  return { messages: seen, error: undefined };
}

/** Runs `command` and returns its standard output (Deno needs `--allow-all` to read `/proc` itself). */
function outputOf(command: string, args: string[]): string {
  const { stdout } = new Deno.Command(command, { args, stderr: "null" })
    .outputSync();
  return new TextDecoder().decode(stdout);
}

/** Number of open file descriptors of process `pid` (this one by default). */
export function openFdCount(pid = Deno.pid): number {
  return outputOf("ls", [`/proc/${pid}/fd`]).split("\n").filter((line) =>
    line !== ""
  ).length;
}

/** `true` while process `pid` runs: it exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  const state = outputOf("ps", ["-o", "stat=", "-p", String(pid)]).trim();
  return state !== "" && !state.startsWith("Z");
}

/** Resident memory of process `pid` in bytes. */
export function residentBytes(pid: number): number {
  const kib = Number(outputOf("ps", ["-o", "rss=", "-p", String(pid)]).trim());
  if (!Number.isFinite(kib) || kib === 0) {
    throw new Error(`no resident size for process ${pid}`);
  }
  return kib * 1024;
}

/** Waits until `condition()` holds, polling; fails after `ms`. */
export async function waitUntil(
  condition: () => boolean,
  what: string,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
