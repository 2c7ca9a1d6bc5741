// A NATS worker process for the tests: serves a few handlers (or, with
// "pool", an IpcPool of tests/fixtures/pool_worker.ts children) for the
// service given, prints "ready <pid>", and drains on SIGTERM.
//   deno run --allow-net [--allow-run --allow-env] worker_fixture.ts <url> <service> [pool]
import { IpcPool } from "../../mod.ts";
import { serveNatsCalls } from "../../nats.ts";

const [servers, service, mode] = Deno.args;

const handlers = {
  pid: () => Deno.pid,
  sleep: ({ ms }: { ms: number }, { signal }: { signal: AbortSignal }) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(Deno.pid), ms);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    }),
};

const pool = mode === "pool"
  ? new IpcPool({
    module: new URL("../fixtures/pool_worker.ts", import.meta.url),
    size: 2,
  })
  : undefined;
const worker = pool === undefined
  ? await serveNatsCalls(handlers, { servers, service })
  : await serveNatsCalls(pool, {
    servers,
    service,
    methods: ["pid", "sleep", "fail"],
  });
Deno.addSignalListener("SIGTERM", () => worker.stop());
console.log(`ready ${Deno.pid}`);
await worker.stopped;
await pool?.close();
