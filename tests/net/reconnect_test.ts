// connectIpc({ reconnect }): the channel outlives its connections. Here the
// server restarts within this process (a new listener on the same path);
// reconnect_daemon_test.ts restarts a real daemon process.
import assert from "node:assert/strict";
import {
  connectIpc,
  type ConnectIpcCommonOptions,
  type IpcChannel,
  IpcClosedError,
  IpcHandshakeError,
  type IpcListener,
  type IpcReconnectEvent,
  type IpcReconnectingStream,
  type IpcReconnectOptions,
  listenIpc,
} from "../../mod.ts";
import { fixture, isRunning, sleep, waitUntil, within } from "../helpers.ts";
import { AUTH_KEY, portOf, serveEcho, tempSocket } from "../net_helpers.ts";

const QUICK = { minDelay: 10, maxDelay: 50 };

/** A listener that greets each client with its generation and echoes. */
async function server(
  path: string,
  generation: number,
  authKey = AUTH_KEY,
): Promise<{ listener: IpcListener; done: Promise<void> }> {
  const listener = await listenIpc({ path, authKey });
  const done = (async () => {
    const clients: Promise<void>[] = [];
    for await (const client of listener) {
      client.handle("generation", () => generation);
      client.handle("never", () => new Promise(() => {}));
      clients.push(
        (async () => {
          await client.send({ hello: generation });
          for await (const message of client) await client.send(message);
        })().catch(() => {}),
      );
    }
    await Promise.all(clients);
  })();
  return { listener, done };
}

/**
 * A client of `server(path, 1)` whose server then went away: it is
 * reconnecting when this resolves.
 */
async function droppedClient(
  path: string,
  options: ConnectIpcCommonOptions = {},
): Promise<IpcReconnectingStream> {
  const first = await server(path, 1);
  const client = await connectIpc({
    path,
    authKey: AUTH_KEY,
    reconnect: QUICK,
    ...options,
  });
  await client.receive();
  await first.listener.close();
  await first.done;
  await waitUntil(() => client.state === "reconnecting", "reconnecting");
  return client;
}

Deno.test("reconnect: the iterator goes on across a restart; calls in flight reject with 'connection lost; reconnecting'", async () => {
  using socket = tempSocket();
  let first = await server(socket.path, 1);
  const events: IpcReconnectEvent[] = [];
  const client = await connectIpc({
    path: socket.path,
    authKey: AUTH_KEY,
    reconnect: { ...QUICK, onStateChange: (event) => events.push(event) },
  });
  assert.equal(client.state, "open");
  assert.deepEqual(await within(client.receive(), "hello 1"), { hello: 1 });
  assert.equal(await client.request("generation"), 1);
  const lost = client.request("never").catch((error) => error);
  await first.listener.close();
  await first.done;
  const error = await within(lost, "the call in flight");
  assert.ok(error instanceof IpcClosedError, String(error));
  assert.equal(
    error.cause instanceof Error && error.cause.message,
    "connection lost; reconnecting",
  );
  assert.match(error.message, /not sent again/);
  await waitUntil(() => client.state === "reconnecting", "reconnecting");
  assert.equal(client.remoteAddr, undefined);

  // A call and a send made while reconnecting wait for the connection.
  const call = client.request("generation", undefined, { timeout: 30_000 });
  const sent = client.send({ during: "the gap" });
  first = await server(socket.path, 2);
  assert.equal(await within(call, "the call made in the gap"), 2);
  await within(sent, "the send made in the gap");
  assert.deepEqual(await within(client.receive(), "hello 2"), { hello: 2 });
  assert.deepEqual(await within(client.receive(), "the echo"), {
    during: "the gap",
  });
  assert.equal(client.state, "open");
  assert.equal(client.reconnects, 1);
  // docs/network.md reads it from stats(), with the sends that may be lost.
  assert.equal(client.stats().reconnects, 1);
  assert.equal(client.stats().sendsMaybeLost, 0);
  assert.equal(events[0].sendsMaybeLost, 0);
  assert.ok(client.remoteAddr !== undefined);
  assert.deepEqual(
    events.map((e) => e.state),
    [...events.slice(0, -1).map(() => "reconnecting"), "open"],
  );
  assert.equal(events[0].attempt, 1);
  assert.ok(events[0].delay !== undefined && events[0].delay <= QUICK.minDelay);

  await client.close();
  assert.equal(client.state, "closed");
  assert.equal(events.at(-1)?.state, "closed");
  await first.listener.close();
  await first.done;
});

Deno.test("reconnect: a server with another key after the restart: gives up at once with IpcHandshakeError (authentication)", async () => {
  using socket = tempSocket();
  const first = await server(socket.path, 1);
  const events: IpcReconnectEvent[] = [];
  const client = await connectIpc({
    path: socket.path,
    authKey: AUTH_KEY,
    reconnect: { ...QUICK, onStateChange: (event) => events.push(event) },
  });
  await client.receive();
  const iterating = (async () => {
    for await (const _ of client) { /* until it throws */ }
  })().catch((error) => error);
  await first.listener.close();
  await first.done;
  const other = await server(socket.path, 2, "another key, 16 bytes or more");
  const error = await within(iterating, "the iterator to fail");
  assert.ok(
    error instanceof IpcHandshakeError && error.reason === "authentication",
    String(error),
  );
  assert.equal(client.state, "closed");
  const attempts = events.filter((e) => e.state === "reconnecting");
  assert.equal(attempts.at(-1)?.attempt, events.at(-1)?.attempt);
  assert.equal(events.at(-1)?.state, "closed");
  const last = events.at(-1)?.error;
  assert.ok(
    last instanceof IpcHandshakeError && last.reason === "authentication",
  );
  // The next attempts after the refusal are none: it stopped at once.
  assert.equal(
    events.filter((e) =>
      e.state === "reconnecting" && e.attempt > events.at(-1)!.attempt
    ).length,
    0,
  );
  await assert.rejects(client.send("x"), IpcClosedError);
  await within(client.closed, "closed");
  await other.listener.close();
  await other.done;
});

Deno.test("reconnect: after `retries` failed attempts the iterator throws why, and waiting sends reject", async () => {
  using socket = tempSocket();
  const first = await server(socket.path, 1);
  const client = await connectIpc({
    path: socket.path,
    authKey: AUTH_KEY,
    reconnect: { retries: 3, ...QUICK },
  });
  await client.receive();
  await first.listener.close();
  await first.done;
  const waiting = client.send("never sent").catch((error) => error);
  const error = await within(client.receive().catch((e) => e), "giving up");
  assert.ok(error instanceof IpcClosedError, String(error));
  assert.match(
    error.message,
    /Gave up reconnecting to .* after 3 attempts: No server is listening/,
  );
  assert.ok(await waiting instanceof IpcClosedError);
  assert.equal(client.state, "closed");
  // Thrown once; then the iterator is done.
  assert.deepEqual(await client[Symbol.asyncIterator]().next(), {
    done: true,
    value: undefined,
  });
});

Deno.test("reconnect: while reconnecting, sends wait up to sendBufferBytes, then are refused at once", async () => {
  using socket = tempSocket();
  const client = await droppedClient(socket.path, { sendBufferBytes: 1000 });
  const pad = "x".repeat(300);
  const waiting = [0, 1, 2].map((i) => client.send({ i, pad }));
  const refused = await client.send({ i: 3, pad }).catch((error) => error);
  assert.ok(refused instanceof IpcClosedError, String(refused));
  assert.match(refused.message, /sendBufferBytes is 1000/);
  const second = await server(socket.path, 2);
  await within(Promise.all(waiting), "the waiting sends");
  assert.deepEqual(await within(client.receive(), "hello"), { hello: 2 });
  for (const i of [0, 1, 2]) {
    assert.deepEqual(await within(client.receive(), "echo"), { i, pad });
  }
  await client.close();
  await second.listener.close();
  await second.done;
});

Deno.test("reconnect: close() while reconnecting ends the iterator and rejects what waits", async () => {
  using socket = tempSocket();
  const client = await droppedClient(socket.path, { reconnect: true });
  const next = client[Symbol.asyncIterator]().next();
  const call = client.request("generation").catch((error) => error);
  const send = client.send("x").catch((error) => error);
  await client.close();
  assert.deepEqual(await next, { done: true, value: undefined });
  assert.ok(await call instanceof IpcClosedError);
  assert.ok(await send instanceof IpcClosedError);
  assert.match((await send).message, /close\(\) was called/);
});

Deno.test("reconnect: a call made while reconnecting fails after its timeout; an aborted signal rejects with its reason", async () => {
  using socket = tempSocket();
  const client = await droppedClient(socket.path);
  const timedOut = await client.request("generation", undefined, {
    timeout: 50,
  })
    .catch((error) => error);
  assert.ok(timedOut instanceof IpcClosedError, String(timedOut));
  assert.match(
    timedOut.message,
    /not reconnected .* within its timeout \(50 ms\)/,
  );
  const controller = new AbortController();
  const aborted = client.request("generation", undefined, {
    signal: controller.signal,
  }).catch((error: Error) => error);
  controller.abort(new Error("not needed any more"));
  assert.equal(((await aborted) as Error).message, "not needed any more");
  await client.close();
});

/** Typed against the interface: `deno check` fails when the reconnecting channel is not an `IpcChannel`. */
async function sendAndFlush(channel: IpcChannel, message: unknown) {
  await channel.send(message);
  await channel.flush();
}

Deno.test("reconnect: the channel is an IpcChannel: flush() waits for the next connection, remote() calls across a restart", async () => {
  using socket = tempSocket();
  let first = await server(socket.path, 1);
  const client = await connectIpc({
    path: socket.path,
    authKey: AUTH_KEY,
    reconnect: QUICK,
  });
  const channel: IpcChannel = client;
  const api = channel.remote<{ generation(): number }>();
  assert.deepEqual(await within(client.receive(), "hello 1"), { hello: 1 });
  assert.equal(await within(api.generation(), "a remote call"), 1);
  await within(sendAndFlush(channel, { on: 1 }), "a flush while connected");
  assert.deepEqual(await within(client.receive(), "the echo"), { on: 1 });

  await first.listener.close();
  await first.done;
  await waitUntil(() => client.state === "reconnecting", "reconnecting");
  let settled = false;
  const sent = channel.send({ during: "the gap" });
  const flushed = channel.flush().finally(() => {
    settled = true;
  });
  const called = api.generation();
  await sleep(50);
  assert.equal(settled, false, "flush() settled with no connection");
  first = await server(socket.path, 2);
  await within(sent, "the send made in the gap");
  await within(flushed, "the flush made in the gap");
  assert.equal(await within(called, "the remote call made in the gap"), 2);
  assert.deepEqual(await within(client.receive(), "hello 2"), { hello: 2 });
  assert.deepEqual(await within(client.receive(), "the echo"), {
    during: "the gap",
  });
  await client.close();
  await first.listener.close();
  await first.done;
});

Deno.test("reconnect: handlers serve every connection", async () => {
  using socket = tempSocket();
  let listener = await listenIpc({ path: socket.path });
  const client = await connectIpc({ path: socket.path, reconnect: QUICK });
  client.handle("whoami", () => "the client");
  assert.throws(() => client.handle("whoami", () => 0), TypeError);
  for (let generation = 1; generation <= 3; generation++) {
    const channel = await within(listener.accept(), "the client");
    assert.equal(await channel.request("whoami"), "the client");
    await listener.close();
    listener = await listenIpc({ path: socket.path });
  }
  await within(listener.accept(), "the client again");
  assert.equal(client.reconnects, 3);
  await client.close();
  await listener.close();
});

Deno.test("reconnect: options are checked", async () => {
  using socket = tempSocket();
  await using listener = await listenIpc({ path: socket.path });
  const served = serveEcho(listener);
  for (
    const [bad, kind] of [
      [{ retries: 0 }, RangeError],
      [{ minDelay: -1 }, RangeError],
      [{ minDelay: 100, maxDelay: 10 }, RangeError],
      [{ retries: "3" }, TypeError],
      [{ onStateChange: 5 }, TypeError],
    ] as const
  ) {
    await assert.rejects(
      connectIpc({
        path: socket.path,
        reconnect: bad as unknown as IpcReconnectOptions,
      }),
      kind,
    );
  }
  for (
    const [bad, kind] of [
      [5, TypeError],
      [{ interval: "1000" }, TypeError],
      [{ interval: -1 }, RangeError],
      [{ interval: 2.5 }, RangeError],
    ] as const
  ) {
    const heartbeat = bad as unknown as { interval: number };
    await assert.rejects(
      connectIpc({ path: socket.path, reconnect: true, heartbeat }),
      kind,
    );
    await assert.rejects(
      listenIpc({ path: `${socket.dir}/other.sock`, heartbeat }),
      kind,
    );
  }
  await listener.close();
  await served;
});

/** Starts the idle-client fixture on `path`, once it is connected. */
async function idleClient(dir: string, path: string, mode: string) {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      `--allow-net=unix:${path}`,
      fixture("reconnect_idle_client.ts"),
      path,
      mode,
    ],
    stdout: "piped",
  }).spawn();
  const output = process.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  const first = await within(output.read(), "the client to connect");
  assert.equal(first.value, "connected\n");
  return { process, output };
}

Deno.test("reconnect: while reconnecting, the wait keeps the process alive only while something waits for the connection", async () => {
  using socket = tempSocket();
  // Nothing waits: the process exits although it would retry for ever.
  let listener = await listenIpc({ path: socket.path });
  const idle = await idleClient(socket.dir, socket.path, "idle");
  await within(listener.accept(), "the idle client");
  await listener.close();
  const state = await within(idle.output.read(), "the idle client's state");
  assert.equal(state.value, "reconnecting\n");
  assert.equal(
    (await within(idle.process.status, "the idle client to exit")).code,
    0,
  );

  // A receive() waits: the process stays until the next server answers.
  listener = await listenIpc({ path: socket.path });
  const waiting = await idleClient(socket.dir, socket.path, "receive");
  await within(listener.accept(), "the waiting client");
  await listener.close();
  await sleep(300);
  assert.ok(isRunning(waiting.process.pid), "the waiting client exited");
  listener = await listenIpc({ path: socket.path });
  const channel = await within(listener.accept(), "the reconnected client");
  await channel.send({ at: "last" });
  const printed = await within(waiting.output.read(), "its output");
  assert.equal(printed.value, '{"at":"last"}\n');
  assert.equal((await within(waiting.process.status, "its exit")).code, 0);
  await listener.close();
});

Deno.test("reconnect over TCP: a listener restarted on the same port is found again", async () => {
  let listener = await listenIpc({ port: 0, authKey: AUTH_KEY });
  const port = portOf(listener);
  const client = await connectIpc({
    port,
    authKey: AUTH_KEY,
    reconnect: QUICK,
  });
  let channel = await within(listener.accept(), "the client");
  await channel.send("first");
  assert.equal(await within(client.receive(), "first"), "first");
  await listener.close();
  listener = await listenIpc({ port, authKey: AUTH_KEY });
  channel = await within(listener.accept(), "the client again");
  await channel.send("second");
  assert.equal(await within(client.receive(), "second"), "second");
  assert.equal(client.reconnects, 1);
  assert.equal((client.remoteAddr as Deno.NetAddr).port, port);
  await client.close();
  await listener.close();
});
