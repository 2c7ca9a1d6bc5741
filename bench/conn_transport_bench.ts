/**
 * `DenoConnTransport` (reads into one reused buffer with `conn.read()`)
 * against the Web-stream transport (`new IpcJsonStream(conn)`, reading
 * `conn.readable`), over a Unix socket and over TCP on 127.0.0.1. Each side
 * of a pair uses the transport measured: the client here, an echo server in
 * a separate process (`conn_echo_server.ts`). No handshake is involved.
 *
 *     deno task bench:conn
 *
 * @module
 */

import { DenoConnTransport, IpcJsonStream } from "../mod.ts";

type Kind = "conn" | "web";
type Network = "unix" | "tcp";

const dir = Deno.makeTempDirSync({ prefix: "tipc-bench-" });
const servers: Deno.ChildProcess[] = [];

async function client(kind: Kind, network: Network): Promise<IpcJsonStream> {
  const path = `${dir}/${kind}.sock`;
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      new URL("./conn_echo_server.ts", import.meta.url).pathname,
      kind,
      network,
      path,
    ],
    stdout: "piped",
  }).spawn();
  servers.push(server);
  const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  const addr = JSON.parse(value!) as Deno.NetAddr | Deno.UnixAddr;
  let conn: Deno.Conn;
  if ("path" in addr) {
    conn = await Deno.connect({ transport: "unix", path: addr.path! });
  } else {
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port: addr.port });
    tcp.setNoDelay(true); // as connectIpc() does
    conn = tcp;
  }
  return kind === "conn"
    ? new IpcJsonStream(new DenoConnTransport(conn))
    : new IpcJsonStream(conn);
}

const channels: Record<string, IpcJsonStream> = {};
for (const network of ["unix", "tcp"] as const) {
  for (const kind of ["conn", "web"] as const) {
    channels[`${kind} ${network}`] = await client(kind, network);
  }
}
// Let `deno bench` exit when done: the servers are killed on unload.
globalThis.addEventListener("unload", () => {
  for (const server of servers) server.kill("SIGKILL");
  Deno.removeSync(dir, { recursive: true });
});

const small = { i: 0, s: "hello world" };
const oneMiB = "x".repeat(1024 * 1024);

for (const network of ["unix", "tcp"] as const) {
  for (const kind of ["conn", "web"] as const) {
    const ipc = channels[`${kind} ${network}`];
    const name = kind === "conn" ? "DenoConnTransport" : "Web streams";
    Deno.bench(`${name}, ${network}: round trip of a small message`, {
      group: `${network} round trip`,
      baseline: kind === "web",
    }, async () => {
      await ipc.send(small);
      await ipc.receive();
    });
    Deno.bench(`${name}, ${network}: 1,000 small messages there and back`, {
      group: `${network} pipelined`,
      baseline: kind === "web",
    }, async () => {
      for (let i = 0; i < 1000; i++) ipc.send(small);
      for (let i = 0; i < 1000; i++) await ipc.receive();
    });
    Deno.bench(`${name}, ${network}: a 1 MiB message there and back`, {
      group: `${network} 1 MiB`,
      baseline: kind === "web",
    }, async () => {
      await ipc.send(oneMiB);
      await ipc.receive();
    });
  }
}
