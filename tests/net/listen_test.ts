// listenIpc()/connectIpc() between processes that did not spawn each other:
// round trips on every transport, many clients at once, separate client
// processes, the socket file's safety, limits and shutdown.
import assert from "node:assert/strict";
import {
  connectIpc,
  IpcAddressInUseError,
  IpcClosedError,
  IpcConnectionRefusedError,
  IpcHandshakeError,
  IpcJsonStream,
  type IpcTraceEvent,
  IpcValidationError,
  listenIpc,
} from "../../mod.ts";
import { fixture, waitUntil, within } from "../helpers.ts";
import {
  AUTH_KEY,
  closeConn,
  errorLog,
  handshakeByHand,
  LOOPBACK,
  portOf,
  rawConnect,
  selfSignedCertificate,
  serveEcho,
  tempSocket,
  writeBytes,
} from "../net_helpers.ts";

Deno.test("unix socket: messages go both ways, in a new 0700 directory, through a 0600 socket", async () => {
  using socket = tempSocket();
  const path = `${socket.dir}/run/app/ipc.sock`;
  const listener = await listenIpc({ path, authKey: AUTH_KEY });
  const served = serveEcho(listener);
  assert.deepEqual(listener.addr, { transport: "unix", path });
  assert.equal(Deno.statSync(`${socket.dir}/run/app`).mode! & 0o777, 0o700);
  assert.equal(Deno.lstatSync(path).isSocket, true);
  assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);

  const client = await connectIpc({ path, authKey: AUTH_KEY });
  for (const message of [{ a: 1 }, "text", [1, 2, 3], null, "é ✓ 😀"]) {
    await client.send(message);
    assert.deepEqual(await within(client.receive(), "the echo"), message);
  }
  await client.close();
  await listener.close();
  await served;
});

Deno.test("stream options reach the channels of listenIpc() and connectIpc(): trace, validate, serialization", async () => {
  using socket = tempSocket();
  const serverTrace: IpcTraceEvent[] = [];
  const clientTrace: IpcTraceEvent[] = [];
  const listener = await listenIpc<{ n: number }>({
    path: socket.path,
    serialization: "advanced",
    trace: (event) => serverTrace.push(event),
    validate: (message): message is { n: number } =>
      typeof (message as { n?: unknown })?.n === "number",
  });
  const errors: unknown[] = [];
  const served = serveEcho(listener, errors);
  const client = await connectIpc({
    path: socket.path,
    serialization: "advanced",
    trace: (event) => clientTrace.push(event),
  });
  // Only the advanced serialization carries a Map and a BigInt.
  const message = { n: 1, map: new Map([["k", 2n]]) };
  await client.send(message);
  assert.deepEqual(await within(client.receive(), "the echo"), message);
  // The server's validation refuses this one: its channel's iterator throws.
  await client.send({ wrong: true });
  await waitUntil(() => errors.length > 0, "the validation error");
  assert.ok(errors[0] instanceof IpcValidationError);
  await client.close();
  await listener.close();
  await served;
  assert.deepEqual(
    clientTrace.map(({ direction }) => direction),
    ["out", "in", "out"],
  );
  assert.deepEqual(
    serverTrace.map(({ direction }) => direction),
    ["in", "out", "in"],
  );
});

Deno.test("unix socket without authKey: allowed, and messages go both ways", async () => {
  using socket = tempSocket();
  const listener = await listenIpc({ path: socket.path });
  const served = serveEcho(listener);
  const client = await connectIpc({ path: socket.path });
  await client.send({ hello: "daemon" });
  assert.deepEqual(await within(client.receive(), "the echo"), {
    hello: "daemon",
  });
  await client.close();
  await listener.close();
  await served;
});

Deno.test("tcp: messages go both ways, and the listener defaults to 127.0.0.1", async () => {
  const listener = await listenIpc({ port: 0, authKey: AUTH_KEY });
  const served = serveEcho(listener);
  assert.equal(listener.addr.transport, "tcp");
  assert.equal((listener.addr as Deno.NetAddr).hostname, LOOPBACK);
  const client = await connectIpc({
    hostname: LOOPBACK,
    port: portOf(listener),
    authKey: AUTH_KEY,
  });
  const big = "x".repeat(1024 * 1024);
  await client.send({ big });
  assert.deepEqual(await within(client.receive(), "the echo"), { big });
  await client.close();
  await listener.close();
  await served;
});

Deno.test("tls: messages go both ways; a client that does not trust the certificate fails on both sides", async () => {
  const tls = await selfSignedCertificate();
  const { errors, onError } = errorLog();
  const listener = await listenIpc({
    port: 0,
    tls,
    authKey: AUTH_KEY,
    onError,
  });
  const served = serveEcho(listener);
  const port = portOf(listener);
  const client = await connectIpc({
    hostname: LOOPBACK,
    port,
    tls: { caCerts: [tls.cert] },
    authKey: AUTH_KEY,
  });
  await client.send({ secret: "over TLS" });
  assert.deepEqual(await within(client.receive(), "the echo"), {
    secret: "over TLS",
  });
  await client.close();

  const untrusting = await connectIpc({
    hostname: LOOPBACK,
    port,
    tls: {},
    authKey: AUTH_KEY,
  }).catch((error) => error);
  assert.ok(untrusting instanceof IpcHandshakeError, String(untrusting));
  assert.match(untrusting.message, /TLS handshake with the server .* failed/);
  await waitUntil(() => errors.length === 1, "the listener's report");
  assert.ok(errors[0] instanceof IpcHandshakeError, String(errors[0]));
  assert.match(errors[0].message, /TLS handshake with the client/);

  // A plain-TCP client of a TLS listener gets no channel either.
  const plain = await connectIpc({
    hostname: LOOPBACK,
    port,
    authKey: AUTH_KEY,
    handshakeTimeout: 300,
  }).catch((error) => error);
  assert.ok(plain instanceof IpcHandshakeError, String(plain));
  await listener.close();
  await served;
});

Deno.test("tcp without authKey: listenIpc and plain connectIpc refuse unless insecure: true", async () => {
  const refused = await listenIpc({ port: 0 }).catch((error) => error);
  assert.ok(refused instanceof TypeError, String(refused));
  assert.match(refused.message, /without authKey/);
  assert.match(refused.message, /insecure: true/);

  const listener = await listenIpc({ port: 0, insecure: true });
  const served = serveEcho(listener);
  const port = portOf(listener);
  const client = await connectIpc({ port }).catch((error) => error);
  assert.ok(client instanceof TypeError, String(client));
  const insecure = await connectIpc({ port, insecure: true });
  await insecure.send(1);
  assert.equal(await within(insecure.receive(), "the echo"), 1);
  await insecure.close();
  await listener.close();
  await served;
});

Deno.test("an authKey shorter than 16 bytes is refused on both sides", async () => {
  using socket = tempSocket();
  const listen = await listenIpc({ path: socket.path, authKey: "short" })
    .catch((error) => error);
  assert.ok(listen instanceof RangeError, String(listen));
  assert.match(listen.message, /at least 16/);
  const connect = await connectIpc({
    path: socket.path,
    authKey: new Uint8Array(15),
  }).catch((error) => error);
  assert.ok(connect instanceof RangeError, String(connect));
});

Deno.test("50 clients at once, 1,000 messages each: none lost, none crossed", async () => {
  const listener = await listenIpc<{ client: number; seq: number }>({
    port: 0,
    authKey: AUTH_KEY,
  });
  const served = serveEcho(listener);
  const port = portOf(listener);
  const clients = Array.from({ length: 50 }, async (_, client) => {
    const ipc = await connectIpc<{ client: number; seq: number }>({
      port,
      authKey: AUTH_KEY,
    });
    const sending = (async () => {
      for (let seq = 0; seq < 1000; seq++) await ipc.send({ client, seq });
    })();
    for (let seq = 0; seq < 1000; seq++) {
      assert.deepEqual(await ipc.receive(), { client, seq });
    }
    await sending;
    await ipc.close();
  });
  await within(Promise.all(clients), "every client's echoes", 120_000);
  await listener.close();
  await served;
});

Deno.test("separate client processes over a unix socket and over TLS", async () => {
  using socket = tempSocket();
  const unix = await listenIpc({ path: socket.path, authKey: AUTH_KEY });
  const tls = await selfSignedCertificate();
  const network = await listenIpc({ port: 0, tls, authKey: AUTH_KEY });
  const served = [serveEcho(unix), serveEcho(network)];
  Deno.writeTextFileSync(`${socket.dir}/cert.pem`, tls.cert);

  const runs = [
    // The minimal permissions of a client of a Unix socket.
    [
      `--allow-net=unix:${socket.path}`,
      `--allow-read=${socket.path}`,
      `--allow-write=${socket.path}`,
      `path=${socket.path}`,
    ],
    [
      `--allow-net=${LOOPBACK}`,
      `--allow-read=${socket.dir}`,
      `port=${portOf(network)}`,
      `ca=${socket.dir}/cert.pem`,
    ],
  ].map(async (args) => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-env=TETHER_TEST_KEY",
        ...args.filter((arg) => arg.startsWith("--")),
        fixture("net_client.ts"),
        ...args.filter((arg) => !arg.startsWith("--")),
        "count=1000",
      ],
      env: { TETHER_TEST_KEY: AUTH_KEY },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const output = new TextDecoder().decode(stdout);
    assert.equal(code, 0, new TextDecoder().decode(stderr) + output);
    assert.equal(output.trim(), "echoed 1000 of 1000 in order");
  });
  await within(Promise.all(runs), "the client processes", 60_000);
  await unix.close();
  await network.close();
  await Promise.all(served);
});

Deno.test("maxConnections: one client too many is turned away as busy; the slot is reusable after a close", async () => {
  using socket = tempSocket();
  const { errors, onError } = errorLog();
  const listener = await listenIpc({
    path: socket.path,
    // With a key the server's last word comes after the client's: a slot
    // taken during the handshake is seen by the client, not only the server.
    authKey: AUTH_KEY,
    maxConnections: 2,
    onError,
  });
  const served = serveEcho(listener);
  const first = await connectIpc({ path: socket.path, authKey: AUTH_KEY });
  const second = await connectIpc({ path: socket.path, authKey: AUTH_KEY });
  const third = await connectIpc({ path: socket.path, authKey: AUTH_KEY })
    .catch((error) => error);
  assert.ok(third instanceof IpcConnectionRefusedError, String(third));
  assert.equal(third.busy, true);
  assert.match(third.message, /connection limit/);
  await waitUntil(() => errors.length === 1, "the report of the refusal");
  assert.ok(errors[0] instanceof IpcConnectionRefusedError);

  // The two admitted channels still work.
  await first.send("one");
  await second.send("two");
  assert.equal(await within(first.receive(), "echo"), "one");
  assert.equal(await within(second.receive(), "echo"), "two");

  await first.close();
  await waitUntil(() => listener.connections === 1, "the slot to free");
  const fourth = await connectIpc({ path: socket.path, authKey: AUTH_KEY });
  await fourth.send("four");
  assert.equal(await within(fourth.receive(), "echo"), "four");
  await Promise.all([second.close(), fourth.close()]);
  await listener.close();
  await served;
});

Deno.test("a live server's socket is never taken over, and the check is not reported as an error", async () => {
  using socket = tempSocket();
  const { errors, onError } = errorLog();
  const first = await listenIpc({ path: socket.path, onError });
  const served = serveEcho(first);
  const second = await listenIpc({ path: socket.path }).catch((error) => error);
  assert.ok(second instanceof IpcAddressInUseError, String(second));
  assert.match(second.message, /already listening/);
  // The first server still owns the path and serves.
  const client = await connectIpc({ path: socket.path });
  await client.send("still here");
  assert.equal(await within(client.receive(), "echo"), "still here");
  await client.close();
  // The check that found it alive connected and closed without a byte: not
  // an error of the running server (close() waits for its handshake task).
  await first.close();
  await served;
  assert.deepEqual(errors.map((error) => error.message), []);
});

Deno.test("a connection that closes before sending a byte is not reported; one that sends a byte and closes is", async () => {
  const { errors, onError } = errorLog();
  const listener = await listenIpc({
    port: 0,
    authKey: AUTH_KEY,
    onError,
  });
  const served = serveEcho(listener);
  // A port check: connect, close.
  closeConn(await rawConnect(listener));
  // A client that began the handshake and gave up.
  const quitter = await rawConnect(listener);
  await writeBytes(quitter, "tipc/1a\n");
  closeConn(quitter);
  await waitUntil(() => errors.length >= 1, "the quitter to be reported");
  assert.ok(errors[0] instanceof IpcHandshakeError, String(errors[0]));
  // close() waits for every handshake task: nothing else was reported.
  await listener.close();
  await served;
  assert.deepEqual(errors.map((error) => error.message), [errors[0].message]);
});

Deno.test("a stale socket file left by a killed server is replaced", async () => {
  using socket = tempSocket();
  const dead = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      `--allow-net=unix:${socket.path}`,
      `--allow-read=${socket.dir}`,
      `--allow-write=${socket.dir}`,
      fixture("unix_listener_child.ts"),
      socket.path,
    ],
    stdout: "piped",
  }).spawn();
  const reader = dead.stdout.getReader();
  const { value } = await within(reader.read(), "the server to listen");
  assert.equal(new TextDecoder().decode(value).trim(), "listening");
  dead.kill("SIGKILL");
  await dead.status;
  reader.releaseLock();
  await dead.stdout.cancel();
  assert.equal(Deno.lstatSync(socket.path).isSocket, true, "the stale file");

  const listener = await listenIpc({ path: socket.path });
  const served = serveEcho(listener);
  const client = await connectIpc({ path: socket.path });
  await client.send("fresh");
  assert.equal(await within(client.receive(), "echo"), "fresh");
  await client.close();
  await listener.close();
  await served;
});

Deno.test("a path that is not a socket is left alone", async () => {
  using socket = tempSocket();
  Deno.writeTextFileSync(socket.path, "precious");
  const error = await listenIpc({ path: socket.path }).catch((e) => e);
  assert.ok(error instanceof IpcAddressInUseError, String(error));
  assert.match(error.message, /not a socket/);
  assert.equal(Deno.readTextFileSync(socket.path), "precious");
});

Deno.test("a socket directory other users can enter is refused", async () => {
  using socket = tempSocket();
  Deno.chmodSync(socket.dir, 0o755);
  const error = await listenIpc({ path: socket.path }).catch((e) => e);
  assert.ok(error instanceof TypeError, String(error));
  assert.match(error.message, /mode 0755/);
  assert.throws(() => Deno.lstatSync(socket.path), Deno.errors.NotFound);
});

Deno.test({
  name: "another user cannot connect to the socket (when run as root)",
  ignore: !runningAsRoot(),
  async fn() {
    using socket = tempSocket();
    const listener = await listenIpc({ path: socket.path });
    const served = serveEcho(listener);
    // Deno as user "nobody", with every permission: only the file system
    // stands in the way.
    const denoDir = Deno.makeTempDirSync({ prefix: "tipc-nobody-" });
    Deno.chmodSync(denoDir, 0o777);
    const connectAsNobody = async () => {
      const { stdout } = await new Deno.Command("setpriv", {
        args: [
          "--reuid=65534",
          "--regid=65534",
          "--clear-groups",
          Deno.execPath(),
          "eval",
          "--no-config",
          `try {
            (await Deno.connect({ transport: "unix", path: Deno.args[0] })).close();
            console.log("connected");
          } catch (error) {
            console.log(error.name);
          }`,
          socket.path,
        ],
        cwd: "/",
        env: { DENO_DIR: denoDir, HOME: denoDir },
        stdout: "piped",
      }).output();
      return new TextDecoder().decode(stdout).trim();
    };
    try {
      assert.equal(await connectAsNobody(), "PermissionDenied");
      // The control: opened up, the same process gets through.
      Deno.chmodSync(socket.dir, 0o711);
      Deno.chmodSync(socket.path, 0o666);
      assert.equal(await connectAsNobody(), "connected");
    } finally {
      Deno.removeSync(denoDir, { recursive: true });
    }
    await listener.close();
    await served;
  },
});

Deno.test("close(): stops accepting, ends open channels, removes the socket file", async () => {
  using socket = tempSocket();
  const listener = await listenIpc({ path: socket.path });
  const client = await connectIpc({ path: socket.path });
  const server = await within(listener.accept(), "the channel");
  assert.ok(server instanceof IpcJsonStream);
  await client.send("before close");
  assert.equal(await within(server.receive(), "the message"), "before close");
  const waiting = client.receive().catch((error) => error);

  await within(listener.close(), "close()");
  // The client's channel ended: its pending receive says so.
  assert.ok((await within(waiting, "the end")) instanceof IpcClosedError);
  await within(client.closed, "the client to see the end");
  assert.throws(() => Deno.lstatSync(socket.path), Deno.errors.NotFound);
  const late = await connectIpc({ path: socket.path }).catch((e) => e);
  assert.ok(late instanceof IpcConnectionRefusedError, String(late));
  assert.equal(late.busy, false);
  await assert.rejects(listener.accept(), IpcClosedError);
  await listener.close(); // a second close is harmless
  assert.equal(listener.connections, 0);
});

Deno.test("await using closes the listener; an iterating loop ends", async () => {
  using socket = tempSocket();
  let loop: Promise<number>;
  {
    await using listener = await listenIpc({ path: socket.path });
    loop = (async () => {
      let count = 0;
      for await (const channel of listener) {
        count++;
        await channel.close();
      }
      return count;
    })();
    const client = await connectIpc({ path: socket.path });
    await within(client.closed, "the server to close the channel");
  }
  assert.equal(await within(loop, "the loop to end"), 1);
});

Deno.test("close() ends idle channels, and cuts off one whose writes are stuck on a peer that never reads", async () => {
  const listener = await listenIpc({ port: 0, authKey: AUTH_KEY });
  const idle = await connectIpc({ port: portOf(listener), authKey: AUTH_KEY });
  await within(listener.accept(), "the idle channel");
  const stuck = await rawConnect(listener);
  await handshakeByHand(stuck);
  const server = await within(listener.accept(), "the stuck channel");
  // Send until every buffer towards the peer is full and send() waits.
  const big = "y".repeat(256 * 1024);
  let waitingSince = Infinity;
  const sending = (async () => {
    try {
      while (true) {
        const sent = server.send(big);
        waitingSince = Date.now();
        await sent;
        waitingSince = Infinity;
      }
    } catch (error) {
      return error;
    }
  })();
  await waitUntil(
    () => Date.now() - waitingSince > 200,
    "send() to wait for the peer",
  );
  await within(listener.close(), "close() despite the stuck peer");
  assert.ok(
    (await within(sending, "send() to fail")) instanceof IpcClosedError,
  );
  await within(idle.closed, "the idle client to see the end");
  closeConn(stuck);
});

Deno.test("unref(): a process whose only work is an unref'd listener exits; ref() keeps it", async () => {
  using socket = tempSocket();
  const run = (mode: string) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        `--allow-net=unix:${socket.path}`,
        `--allow-read=${socket.dir}`,
        `--allow-write=${socket.dir}`,
        fixture("unref_listener.ts"),
        socket.path,
        mode,
      ],
      stdout: "piped",
    }).spawn();
  const unrefed = await within(run("unref").output(), "the process to exit");
  assert.equal(new TextDecoder().decode(unrefed.stdout), "listening\n");
  assert.equal(unrefed.code, 0);

  // The control: ref'd again, it stays until a client tells it to stop.
  const refed = run("ref");
  const reader = refed.stdout.pipeThrough(new TextDecoderStream()).getReader();
  assert.equal((await within(reader.read(), "listening")).value, "listening\n");
  const client = await connectIpc({ path: socket.path });
  await client.send("stop");
  await within(client.closed, "the listener to close the channel");
  await reader.cancel();
  assert.equal((await within(refed.status, "the process to exit")).code, 0);
});

Deno.test("a TCP port in use is reported as IpcAddressInUseError", async () => {
  const first = await listenIpc({ port: 0, authKey: AUTH_KEY });
  const error = await listenIpc({ port: portOf(first), authKey: AUTH_KEY })
    .catch((e) => e);
  assert.ok(error instanceof IpcAddressInUseError, String(error));
  await first.close();
});

Deno.test("connecting where nothing listens: IpcConnectionRefusedError", async () => {
  using socket = tempSocket();
  const error = await connectIpc({ path: socket.path }).catch((e) => e);
  assert.ok(error instanceof IpcConnectionRefusedError, String(error));
  assert.match(error.message, /No server is listening/);
  const closedPort = await listenIpc({ port: 0, insecure: true });
  const port = portOf(closedPort);
  await closedPort.close();
  const tcp = await connectIpc({ port, insecure: true }).catch((e) => e);
  assert.ok(tcp instanceof IpcConnectionRefusedError, String(tcp));
});

/** `true` as root with `setpriv` at hand (a file we create is root's). */
function runningAsRoot(): boolean {
  const probe = Deno.makeTempFileSync();
  try {
    return Deno.statSync(probe).uid === 0 && hasCommand("setpriv");
  } finally {
    Deno.removeSync(probe);
  }
}

function hasCommand(name: string): boolean {
  try {
    return new Deno.Command(name, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

Deno.test("channels know their peer's address: remoteAddr and localAddr on both sides", async () => {
  const listener = await listenIpc({ port: 0, authKey: AUTH_KEY });
  const client = await connectIpc({
    port: portOf(listener),
    authKey: AUTH_KEY,
  });
  const server = await within(listener.accept(), "the channel");
  assert.equal(server.remoteAddr.transport, "tcp");
  assert.equal(client.localAddr.transport, "tcp");
  const seen = server.remoteAddr as Deno.NetAddr;
  const own = client.localAddr as Deno.NetAddr;
  assert.equal(seen.hostname, LOOPBACK);
  assert.equal(seen.port, own.port);
  assert.deepEqual(client.remoteAddr, server.localAddr);
  await client.close();
  await listener.close();

  using socket = tempSocket();
  const unix = await listenIpc({ path: socket.path });
  const local = await connectIpc({ path: socket.path });
  const accepted = await within(unix.accept(), "the unix channel");
  assert.equal(accepted.remoteAddr.transport, "unix");
  assert.equal((accepted.localAddr as Deno.UnixAddr).path, socket.path);
  await local.close();
  await unix.close();
});
