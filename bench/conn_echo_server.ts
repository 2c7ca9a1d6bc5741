/**
 * The echo server of `conn_transport_bench.ts`: listens on the Unix socket
 * or TCP port given, runs each connection as an `IpcJsonStream` over the
 * transport named (`conn`: `DenoConnTransport`; `web`: the connection's Web
 * streams), and echoes every message. No handshake: only the transport is
 * measured. Prints its address once listening.
 *
 *     deno run --allow-read --allow-write --allow-net bench/conn_echo_server.ts conn unix /tmp/x/echo.sock
 *     deno run --allow-net=127.0.0.1 bench/conn_echo_server.ts web tcp
 *
 * @module
 */

import { DenoConnTransport, IpcJsonStream } from "../mod.ts";

const [kind, network, path] = Deno.args;
const listener = network === "unix"
  ? Deno.listen({ transport: "unix", path })
  : Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log(JSON.stringify(listener.addr));

for await (const conn of listener) {
  // As listenIpc() does: no Nagle delays on small answers.
  if ("setNoDelay" in conn) conn.setNoDelay(true);
  const ipc = kind === "conn"
    ? new IpcJsonStream(new DenoConnTransport(conn))
    : new IpcJsonStream(conn);
  (async () => {
    for await (const message of ipc) await ipc.send(message);
  })().catch(() => {});
}
