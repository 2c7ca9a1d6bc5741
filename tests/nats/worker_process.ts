/**
 * Worker processes for the multi-process NATS tests: `worker_fixture.ts`
 * started with `deno run`, ready once it has registered its service.
 *
 * @module
 */

/** A running worker process. */
export interface WorkerProcess {
  readonly pid: number;
  /** Sends SIGTERM (the worker drains) and waits for the exit. */
  stop(): Promise<Deno.CommandStatus>;
  /** Sends SIGKILL: the worker dies with its calls. */
  kill(): Promise<Deno.CommandStatus>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a worker of `service` on the server at `url`. */
export async function startWorker(
  url: string,
  service: string,
  mode: "handlers" | "pool" = "handlers",
): Promise<WorkerProcess> {
  const flags = mode === "pool"
    ? ["--allow-net", "--allow-run", "--allow-env", "--allow-read"]
    : ["--allow-net"];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...flags,
      new URL("./worker_fixture.ts", import.meta.url).pathname,
      url,
      service,
      mode,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    seen += value;
  }
  if (!seen.startsWith("ready ")) {
    await lines.cancel();
    child.kill("SIGKILL");
    await child.status;
    throw new Error(`The NATS worker did not start: ${JSON.stringify(seen)}`);
  }
  // The rest of its output is not needed.
  const drained = (async () => {
    while (!(await lines.read()).done) { /* discard */ }
  })();
  const end = async (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    const status = await child.status;
    await drained;
    return status;
  };
  return {
    pid: child.pid,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
    async [Symbol.asyncDispose]() {
      await end("SIGKILL");
    },
  };
}
