/**
 * The NATS demo: starts a NATS server on a free loopback port, two member
 * processes (`nats_worker.ts`, each with a pool of two children serving
 * `pool_worker.ts`'s handlers), and calls them: shows how the calls spread,
 * what an error from a child looks like, kills a member, and shows the calls
 * go on.
 *
 * Needs `nats-server` (Debian: `apt-get install nats-server`; or set
 * `NATS_SERVER` to the binary). Run with `deno task demo:nats`, or:
 *
 *     deno run --allow-net --allow-run --allow-env --allow-read examples/nats.ts
 *
 * @module
 */

import { connectNatsCalls, IpcRemoteError } from "@tether/ipc/nats";

type Fib = { n: number; fib: number; pid: number };

// A server on loopback only, without authentication: fine for a demo on one
// machine; never expose such a server (see docs/nats.md for TLS and NKEYs).
const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const port = (probe.addr as Deno.NetAddr).port;
probe.close();
function natsServer(): string {
  const named = Deno.env.get("NATS_SERVER");
  if (named) return named;
  try {
    Deno.statSync("/usr/sbin/nats-server"); // Debian's package puts it there
    return "/usr/sbin/nats-server";
  } catch {
    return "nats-server"; // on PATH
  }
}
const binary = natsServer();
const server = new Deno.Command(binary, {
  args: ["-a", "127.0.0.1", "-p", String(port)],
  stdout: "null",
  stderr: "null",
}).spawn();
const url = `nats://127.0.0.1:${port}`;
for (let tries = 0;; tries++) {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    break;
  } catch (error) {
    if (tries > 200) throw error;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
console.log(`nats-server on ${url}`);

/** Starts a member process; resolves with its pid and its children's pids. */
async function startMember() {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-net",
      "--allow-run",
      "--allow-env",
      new URL("./nats_worker.ts", import.meta.url).pathname,
      url,
    ],
    stdout: "piped",
  }).spawn();
  const reader = process.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  const { value = "" } = await reader.read();
  reader.releaseLock();
  const [, pid, children] = value.trim().split(" ");
  console.log(`member ${pid} with children ${children}`);
  return { process, pid: Number(pid), children: children.split(",") };
}

const members = [await startMember(), await startMember()];
const memberOf = new Map<number, number>();
for (const member of members) {
  for (const child of member.children) memberOf.set(Number(child), member.pid);
}

const calls = await connectNatsCalls({ servers: url, service: "demo" });

/** Makes `count` fib calls, 16 at a time; prints how many each member answered. */
async function round(title: string, count: number) {
  const byMember = new Map<number, number>();
  let failed = 0;
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next++ < count) {
      try {
        const { pid } = await calls.request<Fib>("fib", { n: 18 }, {
          timeout: 5000,
        });
        const member = memberOf.get(pid) ?? pid;
        byMember.set(member, (byMember.get(member) ?? 0) + 1);
      } catch (error) {
        failed++;
        console.log(`  a call failed: ${(error as Error).name}`);
      }
    }
  }));
  const spread = [...byMember].map(([member, n]) => `member ${member}: ${n}`);
  console.log(`${title}: ${spread.join(", ")}; failed: ${failed}`);
}

await round("200 calls", 200);

const error = await calls.request("divide", { a: 1, b: 0 }).catch((e) => e);
if (error instanceof IpcRemoteError) {
  console.log(
    `an error from a child: ${error.remoteName}: ${error.remoteMessage}`,
  );
}

const [killed, survivor] = members;
killed.process.kill("SIGKILL");
await killed.process.status;
console.log(`killed member ${killed.pid}`);
// Calls sent before the server has noticed the member is gone go to it and
// time out (IpcTimeoutError); once it has, every call goes to the survivor.
await round("200 calls right after", 200);
await round("200 more calls", 200);

const { succeeded, failed, latency } = calls.stats();
console.log(
  `caller: ${succeeded} succeeded, ${failed} failed, latency p50 ${
    latency.p50.toFixed(1)
  } ms`,
);
await calls.close();
survivor.process.kill("SIGTERM"); // drains: finishes its calls, then exits
await survivor.process.status;
await killed.process.stdout.cancel().catch(() => {});
await survivor.process.stdout.cancel().catch(() => {});
server.kill("SIGTERM");
await server.status;
console.log("done");
