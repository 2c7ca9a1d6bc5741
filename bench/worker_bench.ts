// Worker channels against process channels, side by side: the same peer
// module (bench/worker_peer.ts) run by spawnWorkerWithIpc() and by
// spawnWithIpc(), the same workloads, alternating within each round.
//
//   deno task bench:worker [--rounds N]
//
// - W1: the peer sends 200,000 `{ i, s: "hello world" }`; messages/s from the
//   first to the last ((N-1)/Δt).
// - W3: 20,000 ping-pong round trips of `{ n }` after 1,000 warm-up ones.
// - 16 MiB: a 16 MiB Uint8Array to the peer and its 1-number answer, 10
//   times; ms each. Worker with `transfer`, worker copying (structured
//   clone), process with `serialization: "advanced"` (JSON cannot carry
//   binary without a blow-up).
import {
  type IpcJsonStream,
  spawnWithIpc,
  spawnWorkerWithIpc,
} from "../mod.ts";
import { median } from "./stats.ts";

const rounds = Number(
  Deno.args[Deno.args.indexOf("--rounds") + 1] ?? 0,
) || 5;
const PEER = new URL("./worker_peer.ts", import.meta.url);
const W1_COUNT = 200_000;
const W3_COUNT = 20_000;
const W3_WARMUP = 1_000;
const BIG = 16 * 1024 * 1024;
const BIG_REPEATS = 10;

type Kind = "worker" | "process";

interface Peer {
  ipc: IpcJsonStream;
  [Symbol.asyncDispose](): Promise<void>;
}

function start(kind: Kind, serialization: "json" | "advanced" = "json"): Peer {
  if (kind === "worker") return spawnWorkerWithIpc(PEER);
  return spawnWithIpc(Deno.execPath(), {
    args: ["run", "--quiet", PEER.pathname, serialization],
    serialization,
  });
}

async function w1(kind: Kind): Promise<number> {
  await using peer = start(kind);
  await peer.ipc.send({ cmd: "stream", count: W1_COUNT });
  let first = 0;
  let seen = 0;
  for await (const _ of peer.ipc) {
    if (seen++ === 0) first = performance.now();
    if (seen === W1_COUNT) break;
  }
  const seconds = (performance.now() - first) / 1000;
  await peer.ipc.send({ cmd: "exit" });
  return (W1_COUNT - 1) / seconds;
}

async function w3(kind: Kind): Promise<number> {
  await using peer = start(kind);
  for (let n = 0; n < W3_WARMUP; n++) {
    await peer.ipc.send({ n });
    await peer.ipc.receive();
  }
  const started = performance.now();
  for (let n = 0; n < W3_COUNT; n++) {
    await peer.ipc.send({ n });
    await peer.ipc.receive();
  }
  const seconds = (performance.now() - started) / 1000;
  await peer.ipc.send({ cmd: "exit" });
  return W3_COUNT / seconds;
}

async function big(
  kind: Kind,
  how: "transfer" | "copy" | "advanced",
): Promise<number> {
  await using peer = start(kind, how === "advanced" ? "advanced" : "json");
  const times: number[] = [];
  for (let i = 0; i < BIG_REPEATS + 1; i++) {
    const bytes = new Uint8Array(BIG).fill(i);
    const started = performance.now();
    await peer.ipc.send(
      { bytes },
      how === "transfer" ? { transfer: [bytes.buffer] } : undefined,
    );
    const answer = await peer.ipc.receive() as { length: number };
    if (answer.length !== BIG) throw new Error(`got ${answer.length} bytes`);
    if (i > 0) times.push(performance.now() - started); // the first warms up
  }
  await peer.ipc.send({ cmd: "exit" });
  return median(times);
}

const rows: Record<string, { worker: number[]; process: number[] }> = {
  "W1 small msgs/s (↑)": { worker: [], process: [] },
  "W3 ping-pong round trips/s (↑)": { worker: [], process: [] },
  "16 MiB Uint8Array, ms each (↓)": { worker: [], process: [] },
  "16 MiB Uint8Array copied (no transfer), ms each (↓)": {
    worker: [],
    process: [],
  },
};
const started = performance.now();
for (let round = 0; round < rounds; round++) {
  const kinds: Kind[] = round % 2 === 0
    ? ["worker", "process"]
    : ["process", "worker"];
  for (const kind of kinds) {
    rows["W1 small msgs/s (↑)"][kind].push(await w1(kind));
    rows["W3 ping-pong round trips/s (↑)"][kind].push(await w3(kind));
    rows["16 MiB Uint8Array, ms each (↓)"][kind].push(
      await big(kind, kind === "worker" ? "transfer" : "advanced"),
    );
    rows["16 MiB Uint8Array copied (no transfer), ms each (↓)"][kind].push(
      await big(kind, kind === "worker" ? "copy" : "advanced"),
    );
  }
  console.error(`round ${round + 1}/${rounds} done`);
}

const format = (value: number) =>
  value >= 100
    ? Math.round(value).toLocaleString("en-US")
    : value.toFixed(value >= 10 ? 1 : 2);
const lines = [
  `- date: ${
    new Date().toISOString()
  }; rounds: ${rounds} (kinds alternate, order swapped each round; medians, min–max)`,
  `- run time: ${
    Math.round((performance.now() - started) / 1000)
  } s; Deno ${Deno.version.deno}; ${navigator.hardwareConcurrency} cores`,
  "",
  "| metric | worker | process | worker / process |",
  "|---|---:|---:|---:|",
];
for (const [metric, { worker, process }] of Object.entries(rows)) {
  const lower = metric.includes("(↓)");
  const ratio = lower
    ? median(process) / median(worker)
    : median(worker) / median(process);
  const cell = (values: number[]) =>
    `${format(median(values))} (${format(Math.min(...values))}–${
      format(Math.max(...values))
    })`;
  lines.push(
    `| ${metric} | ${cell(worker)} | ${cell(process)} | ${ratio.toFixed(2)}× ${
      lower ? "faster" : ""
    } |`,
  );
}
console.log(lines.join("\n"));
