/**
 * A real `nats-server` for the tests: started on a loopback port it picks,
 * stopped after. The binary is `$NATS_SERVER`, else `nats-server` from the
 * Debian package (`/usr/sbin/nats-server`, or on `PATH`). When there is none
 * the tests fail loudly: they are never skipped.
 *
 * @module
 */

import { within } from "../helpers.ts";

/** A running server. */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** What the server wrote to stderr so far. */
  log(): string;
  /** Stops it (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
  /** Kills it and starts it again on the same port. */
  restart(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The server binary, or a loud error saying how to get one. */
export function natsServerBinary(): string {
  const named = Deno.env.get("NATS_SERVER");
  if (named) return named;
  for (const path of ["/usr/sbin/nats-server", "/usr/bin/nats-server"]) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* next */ }
  }
  const which = new Deno.Command("sh", {
    args: ["-c", "command -v nats-server"],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  const found = new TextDecoder().decode(which.stdout).trim();
  if (which.success && found !== "") return found;
  throw new Error(
    "nats-server was not found: the NATS tests need a real server. Install it " +
      "(apt-get install -y nats-server; .ci/run does) or set NATS_SERVER to its path.",
  );
}

/**
 * Starts a server; `config` (nats-server configuration text) is written to a
 * temporary file and passed with `-c`.
 */
export async function startNatsServer(
  options: { config?: string; args?: string[]; scheme?: string } = {},
): Promise<NatsServer> {
  const binary = natsServerBinary();
  // The first start takes a port the server picks itself (-p -1), so no
  // other process can take it between a probe and the server's bind; a
  // restart asks for the same one again.
  let port = -1;
  let configFile: string | undefined;
  if (options.config !== undefined) {
    configFile = await Deno.makeTempFile({ suffix: ".conf" });
    await Deno.writeTextFile(configFile, options.config);
  }
  let log = "";
  let child: Deno.ChildProcess | undefined;
  let reader: Promise<void> = Promise.resolve();
  const start = async () => {
    const args = [
      "-a",
      "127.0.0.1",
      "-p",
      String(port),
      ...(options.args ?? []),
    ];
    if (configFile !== undefined) args.push("-c", configFile);
    child = new Deno.Command(binary, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const running = child;
    const from = log.length;
    const listening = Promise.withResolvers<number>();
    reader = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of running.stderr) {
        log += decoder.decode(chunk, { stream: true });
        const found = /Listening for client connections on [^\s]*:(\d+)/
          .exec(log.slice(from));
        if (found !== null) listening.resolve(Number(found[1]));
      }
      listening.reject(
        new Error(`nats-server (${binary}) ended before it listened:\n${log}`),
      );
    })();
    port = await within(listening.promise, "nats-server to listen", 20_000);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (running === undefined) return;
    try {
      running.kill("SIGTERM");
    } catch { /* already gone */ }
    const killer = setTimeout(() => {
      try {
        running.kill("SIGKILL");
      } catch { /* gone */ }
    }, 5000);
    await running.status;
    clearTimeout(killer);
    await reader;
  };
  await start();
  const server: NatsServer = {
    url: `${options.scheme ?? "nats"}://127.0.0.1:${port}`,
    port,
    log: () => log,
    stop: async () => {
      await stop();
      if (configFile !== undefined) {
        await Deno.remove(configFile).catch(() => {});
      }
    },
    restart: async () => {
      await stop();
      await start();
    },
    [Symbol.asyncDispose]: () => server.stop(),
  };
  return server;
}

/** A TCP relay to a server that delays what clients send it. */
export interface SlowLink {
  /** `nats://127.0.0.1:<port>` of the relay. */
  readonly url: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Relays connections to the server on `port`, holding back each chunk a
 * client sends for `delayMs` (in order); answers pass at once. A slow link
 * between one client and the server, for races between two clients.
 */
export function slowLink(port: number, delayMs: number): SlowLink {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const relay = async (client: Deno.Conn) => {
    const server = await Deno.connect({ hostname: "127.0.0.1", port });
    conns.push(client, server);
    const back = server.readable.pipeTo(client.writable).catch(() => {});
    let last = Promise.resolve();
    const writer = server.writable.getWriter();
    try {
      for await (const chunk of client.readable) {
        const due = new Promise((resolve) => setTimeout(resolve, delayMs));
        last = last.then(() => due).then(() => writer.write(chunk));
      }
      await last;
    } catch { /* a side closed */ }
    await back;
  };
  const accepting = (async () => {
    for await (const client of listener) relay(client).catch(() => {});
  })().catch(() => {});
  return {
    url: `nats://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed already */ }
      }
      await accepting;
    },
  };
}
