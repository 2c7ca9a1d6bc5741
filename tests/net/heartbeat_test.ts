// The heartbeat of network channels, with real processes: a daemon or a
// client stopped with SIGSTOP is noticed (pending calls reject, a waiting
// send too, a reconnecting client finds the restarted daemon); a peer that
// does not know the heartbeat never sees it and is never dropped; its
// signals never cut a message; and the acknowledgements tell which sends a
// killed daemon may not have taken (sendsMaybeLost).
import assert from "node:assert/strict";
import {
  connectIpc,
  DenoConnTransport,
  IpcClosedError,
  IpcJsonStream,
  type IpcReconnectEvent,
  type IpcSerialization,
  listenIpc,
} from "../../mod.ts";
import { fixture, sleep, waitUntil, within } from "../helpers.ts";
import {
  AUTH_KEY,
  readBytes,
  serveEcho,
  tempSocket,
  writeBytes,
} from "../net_helpers.ts";

/** The heartbeat interval of these tests, in milliseconds. */
const INTERVAL = 250;

interface Daemon {
  process: Deno.ChildProcess;
  /** Lines it printed so far ("<connection> msg <seq>", "… ack <seq>"). */
  lines: string[];
  /** Resolves when its output ends. */
  output: Promise<void>;
}

/** Starts tests/fixtures/reconnect_daemon.ts and waits until it listens. */
async function startDaemon(
  dir: string,
  path: string,
  generation: number,
): Promise<Daemon> {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      `--allow-net=unix:${path}`,
      fixture("reconnect_daemon.ts"),
      path,
      AUTH_KEY,
      String(generation),
    ],
    stdout: "piped",
  }).spawn();
  const lines: string[] = [];
  const ready = Promise.withResolvers<void>();
  const output = (async () => {
    let rest = "";
    for await (
      const chunk of process.stdout.pipeThrough(new TextDecoderStream())
    ) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        if (line === "ready") ready.resolve();
        else lines.push(line);
      }
    }
    ready.reject(new Error(`daemon ${generation} ended before it was ready`));
  })();
  await within(ready.promise, `daemon ${generation} to listen`);
  return { process, lines, output };
}

async function stopDaemon(daemon: Daemon, signal: Deno.Signal): Promise<void> {
  daemon.process.kill(signal);
  await daemon.process.status;
  await daemon.output;
}

/** The seqs of the messages the daemons printed. */
function printedSeqs(daemons: Daemon[]): Set<number> {
  const seqs = new Set<number>();
  for (const daemon of daemons) {
    for (const line of daemon.lines) {
      const [, kind, seq] = line.split(" ");
      if (kind === "msg") seqs.add(Number(seq));
    }
  }
  return seqs;
}

/** An error's message and those of its causes, for matching. */
function causes(error: unknown): string {
  const messages: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) messages.push(e.message);
  return messages.join(" <- ");
}

/** Sends until a send waits for room (the peer does not read), and returns it. */
async function waitingSend(
  channel: { send(message: { seq: number; pad: string }): Promise<void> },
): Promise<{ sent: Promise<void> }> {
  const pad = "x".repeat(64 * 1024);
  for (let seq = 0; seq < 10_000; seq++) {
    const sent = channel.send({ seq, pad });
    const waits = await Promise.race([
      sent.then(() => false),
      sleep(20).then(() => true),
    ]);
    if (waits) return { sent };
  }
  throw new Error("no send ever waited for room");
}

Deno.test("heartbeat: a daemon stopped with SIGSTOP is noticed; calls and a waiting send reject, and a reconnecting client finds the restarted daemon", async () => {
  using socket = tempSocket();
  const { dir, path } = socket;
  const first = await startDaemon(dir, path, 0);
  const events: IpcReconnectEvent[] = [];
  const follower = await connectIpc<{ hello: string }, { seq: number }>({
    path,
    authKey: AUTH_KEY,
    reconnect: {
      minDelay: 20,
      maxDelay: 200,
      onStateChange: (event) => events.push(event),
    },
    heartbeat: { interval: INTERVAL },
  });
  const once = await connectIpc<unknown, { seq: number; pad: string }>({
    path,
    authKey: AUTH_KEY,
    heartbeat: { interval: INTERVAL },
    sendBufferBytes: 64 * 1024,
  });
  assert.deepEqual(await within(follower.receive(), "the greeting"), {
    hello: "0",
  });
  assert.equal(await within(follower.request("ack", { seq: 1 }), "a call"), 1);
  assert.equal(await within(once.request("ack", { seq: 2 }), "a call"), 2);

  first.process.kill("SIGSTOP");
  const stoppedAt = performance.now();
  let noticedAfter = 0;
  try {
    // Calls without a timeout, and a send that waits for room.
    const failures = [
      follower.request("ack", { seq: 3 }),
      once.request("ack", { seq: 4 }),
      (await waitingSend(once)).sent,
    ].map((promise) =>
      promise.then(() => undefined, (error: unknown) => error)
    );
    const errors = await within(
      Promise.all(failures),
      "the stopped daemon to be noticed",
    );
    noticedAfter = performance.now() - stoppedAt;
    for (const error of errors) {
      assert.ok(error instanceof IpcClosedError, String(error));
      assert.match(
        causes(error),
        /no sign of life from the server at .+ although it was pinged \(heartbeat every 250 ms\)/,
      );
    }
    await within(once.closed, "the one-shot client to close");
    assert.equal(events[0]?.state, "reconnecting");
    assert.match(events[0].error?.message ?? "", /no sign of life/);
  } finally {
    // SIGKILL ends a stopped process too.
    await stopDaemon(first, "SIGKILL");
  }

  const second = await startDaemon(dir, path, 1);
  assert.equal(
    await within(follower.request("ack", { seq: 5 }), "a call once back"),
    5,
  );
  assert.equal(follower.state, "open");
  assert.equal(follower.stats().reconnects, 1);
  await follower.close();
  await once.close();
  await stopDaemon(second, "SIGTERM");
  console.log(
    `noticed ${
      Math.round(noticedAfter)
    } ms after SIGSTOP (heartbeat every ${INTERVAL} ms)`,
  );
});

Deno.test("heartbeat: a listener with a heartbeat drops a client process stopped with SIGSTOP; its call to the client rejects", async () => {
  using socket = tempSocket();
  const { dir, path } = socket;
  await using listener = await listenIpc({
    path,
    authKey: AUTH_KEY,
    heartbeat: { interval: INTERVAL },
  });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      `--allow-net=unix:${path}`,
      fixture("heartbeat_client.ts"),
      path,
      AUTH_KEY,
    ],
  }).spawn();
  try {
    const client = await within(listener.accept(), "the client");
    assert.equal(await within(client.request("echo", 1), "a call"), 1);
    child.kill("SIGSTOP");
    const error = await within(
      client.request("echo", 2).then(() => undefined, (error) => error),
      "the stopped client to be noticed",
    );
    assert.ok(error instanceof IpcClosedError, String(error));
    assert.match(
      causes(error),
      /no sign of life from the client at .+ although it was pinged/,
    );
    await within(client.closed, "the channel to close");
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
});

/**
 * A server as this library was before the heartbeat: a channel straight on
 * the connection, after the handshake (without a key) done by hand.
 */
async function serverWithoutHeartbeat(
  listener: Deno.Listener,
): Promise<IpcJsonStream<{ n: number }, unknown>> {
  const conn = await within(listener.accept(), "a client");
  await writeBytes(conn, "tipc/1N\n");
  assert.equal(new TextDecoder().decode(await readBytes(conn, 8)), "tipc/1n\n");
  return new IpcJsonStream(new DenoConnTransport(conn));
}

Deno.test("heartbeat: a server that does not know it never sees the pings and is never dropped", async () => {
  using socket = tempSocket();
  using raw = Deno.listen({ transport: "unix", path: socket.path });
  const events: IpcReconnectEvent[] = [];
  const connecting = connectIpc<unknown, { n: number }>({
    path: socket.path,
    reconnect: { onStateChange: (event) => events.push(event) },
    heartbeat: { interval: 20 },
  });
  const server = await serverWithoutHeartbeat(raw);
  const client = await within(connecting, "connectIpc");
  // Pings nobody answers, over many intervals: blank lines to this server.
  await waitUntil(() => server.stats().bytesIn >= 20, "ten pings");
  await client.send({ n: 1 });
  assert.deepEqual(await within(server.receive(), "the message"), { n: 1 });
  assert.equal(server.stats().messagesIn, 1);
  assert.equal(client.state, "open");
  assert.equal(events.length, 0);
  // It acknowledges nothing: at a drop, every send of the connection counts.
  await client.send({ n: 2 });
  await within(server.receive(), "the second message");
  await server.close();
  await waitUntil(() => events.length > 0, "the drop");
  assert.equal(events[0].state, "reconnecting");
  assert.equal(events[0].sendsMaybeLost, 2);
  assert.equal(client.stats().sendsMaybeLost, 2);
  await client.close();
});

Deno.test("heartbeat: on by default for a reconnecting client (it pings at once), off for a one-shot client", async () => {
  using socket = tempSocket();
  using raw = Deno.listen({ transport: "unix", path: socket.path });
  const following = connectIpc({ path: socket.path, reconnect: true });
  const followed = await serverWithoutHeartbeat(raw);
  const follower = await within(following, "connectIpc");
  await waitUntil(() => followed.stats().bytesIn > 0, "the first ping");
  assert.equal(followed.stats().bytesIn, "\t\n".length);

  const connecting = connectIpc({ path: socket.path });
  const server = await serverWithoutHeartbeat(raw);
  const once = await within(connecting, "connectIpc");
  await once.send({ n: 1 });
  assert.deepEqual(await within(server.receive(), "the message"), { n: 1 });
  assert.equal(server.stats().bytesIn, '{"n":1}\n'.length);
  await Promise.all([follower.close(), once.close()]);
  await Promise.all([followed.close(), server.close()]);
});

for (const serialization of ["json", "advanced"] as IpcSerialization[]) {
  Deno.test(`heartbeat (${serialization}): its signals go between messages, never inside one`, async () => {
    using socket = tempSocket();
    await using listener = await listenIpc({
      path: socket.path,
      serialization,
      heartbeat: { interval: 1_000 },
    });
    const served = serveEcho(listener);
    const client = await connectIpc({
      path: socket.path,
      serialization,
      reconnect: true,
      heartbeat: { interval: 1_000 },
    });
    // Written in several pieces: JSON text over 2 MiB in 1 MiB slices, a
    // typed array of 64 KiB or more after its header.
    const large = serialization === "json"
      ? "x".repeat(3 * 1024 * 1024 + 7)
      : new Uint8Array(3 * 1024 * 1024 + 7).fill(7);
    const rounds = 6;
    const receiving = (async () => {
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < 50; i++) {
          assert.deepEqual(await client.receive(), { round, i });
        }
        const echo = await client.receive();
        assert.equal((echo as { length: number }).length, large.length);
        assert.deepEqual(echo, large);
      }
    })();
    for (let round = 0; round < rounds; round++) {
      // Each resolved send asks for an acknowledgement: signals interleave.
      for (let i = 0; i < 50; i++) await client.send({ round, i });
      await client.send(large);
      await sleep(10);
    }
    await within(receiving, "the echoes");
    assert.equal(client.stats().reconnects, 0);
    assert.equal(client.stats().sendsMaybeLost, 0);
    await client.close();
    await listener.close();
    await served;
  });
}

Deno.test("reconnect: sendsMaybeLost counts the sends a killed daemon may not have taken; no more, and never fewer than were lost", async () => {
  using socket = tempSocket();
  const { dir, path } = socket;
  const first = await startDaemon(dir, path, 0);
  const sent: number[] = [];
  const events: IpcReconnectEvent[] = [];
  let resolvedBeforeDrop = -1;
  const client = await connectIpc<{ hello: string }, { seq: number }>({
    path,
    authKey: AUTH_KEY,
    sendBufferBytes: 64 * 1024,
    reconnect: {
      minDelay: 20,
      maxDelay: 200,
      onStateChange: (event) => {
        if (event.state === "reconnecting" && resolvedBeforeDrop < 0) {
          resolvedBeforeDrop = sent.length;
        }
        events.push(event);
      },
    },
  });
  let stopping = false;
  const sending = (async () => {
    for (let seq = 0; !stopping; seq++) {
      try {
        await client.send({ seq });
        sent.push(seq);
      } catch (error) {
        if (!(error instanceof IpcClosedError)) throw error;
      }
    }
  })();
  await waitUntil(
    () => printedSeqs([first]).size >= 3000,
    "the first daemon to print 3000 messages",
  );
  // Acknowledgements trail what the daemon takes by what is in flight, and
  // the first ones queue behind what was sent until then: twice, let the
  // daemon take everything sent so far.
  for (let round = 0; round < 2; round++) {
    const resolved = sent.length;
    await waitUntil(
      () => printedSeqs([first]).size > resolved,
      `the first daemon to print ${resolved} messages`,
      60_000,
    );
  }
  await stopDaemon(first, "SIGKILL");
  await waitUntil(() => resolvedBeforeDrop >= 0, "the drop");
  const second = await startDaemon(dir, path, 1);
  await waitUntil(
    () => printedSeqs([second]).size >= 100,
    "the second daemon to print 100 messages",
  );
  stopping = true;
  await sending;
  await client.close();
  // Everything sent on the second connection arrives: wait for its last.
  await waitUntil(
    () => printedSeqs([second]).has(sent.at(-1)!),
    "the second daemon to print the last message",
  );
  await stopDaemon(second, "SIGTERM");

  const printed = printedSeqs([first, second]);
  const lost = sent.filter((seq) => !printed.has(seq)).length;
  const drop = events.find((event) => event.state === "reconnecting")!;
  const reported = drop.sendsMaybeLost;
  assert.equal(typeof reported, "number", JSON.stringify(drop));
  assert.ok(lost <= reported!, `${lost} sends lost, ${reported} reported`);
  // Acknowledged sends are not counted: fewer than all the connection's.
  assert.ok(
    reported! < resolvedBeforeDrop,
    `${reported} of the ${resolvedBeforeDrop} sends on the connection reported`,
  );
  assert.equal(client.stats().sendsMaybeLost, reported);
  assert.equal(client.stats().reconnects, 1);
  console.log(
    `${resolvedBeforeDrop} sends resolved before the drop, ${lost} lost, ` +
      `${reported} reported as maybe lost`,
  );
});
