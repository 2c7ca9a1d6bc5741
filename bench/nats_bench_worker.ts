// A worker of bench/nats_bench.ts, answering "echo" with its params:
//   bare <url>    the bare NATS client: a queue subscription that responds
//   tether <url>  serveNatsCalls()
//   child         serveParentCalls(), as an IpcPool child
import { connect } from "@nats-io/transport-node";
import { serveParentCalls } from "../mod.ts";
import { serveNatsCalls } from "../nats.ts";

const [mode, servers] = Deno.args;
const echo = (params: unknown) => params;

if (mode === "child") {
  serveParentCalls({ echo });
} else if (mode === "bare") {
  const nc = await connect({ servers });
  nc.subscribe("bare.echo", {
    queue: "bench",
    callback: (_error, msg) => msg.respond(msg.data),
  });
  await nc.flush();
  console.log("ready");
} else {
  await serveNatsCalls({ echo }, {
    servers,
    service: "bench",
    concurrency: 256,
  });
  console.log("ready");
}
