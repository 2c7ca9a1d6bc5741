// The handshake: wrong and missing keys fail clearly on both sides and
// deliver nothing; replayed and reflected proofs fail; the bytes are exactly
// those docs/protocol.md documents.
import assert from "node:assert/strict";
import {
  connectIpc,
  IpcHandshakeError,
  type IpcListener,
  listenIpc,
} from "../../mod.ts";
import { fixture, waitUntil, within } from "../helpers.ts";
import {
  ascii,
  AUTH_KEY,
  closeConn,
  concat,
  errorLog,
  handshakeByHand,
  LOOPBACK,
  portOf,
  proof,
  rawConnect,
  readBytes,
  readToEnd,
  serveEcho,
  tempSocket,
  text,
  writeBytes,
} from "../net_helpers.ts";

/**
 * Checks that the next channel the listener yields is the well-behaved
 * client connected now: whatever failed before delivered no channel and no
 * message.
 */
async function assertNothingDelivered(
  listener: IpcListener<unknown, unknown>,
  connect: () => ReturnType<typeof connectIpc>,
): Promise<void> {
  const client = await connect();
  await client.send("the good client");
  const channel = await within(listener.accept(), "the good client's channel");
  assert.equal(
    await within(channel.receive(), "its message"),
    "the good client",
  );
  await client.close();
  await channel.close();
}

Deno.test("wrong key: both sides get IpcHandshakeError (authentication), nothing is delivered", async () => {
  const { errors, onError } = errorLog();
  const listener = await listenIpc({ port: 0, authKey: AUTH_KEY, onError });
  const port = portOf(listener);
  const error = await connectIpc({
    port,
    authKey: "another key, also long enough",
  }).catch((e) => e);
  assert.ok(
    error instanceof IpcHandshakeError && error.reason === "authentication",
    String(error),
  );
  assert.match(error.message, /rejected this client's authKey/);
  await waitUntil(() => errors.length === 1, "the listener's report");
  assert.ok(
    errors[0] instanceof IpcHandshakeError &&
      errors[0].reason === "authentication",
  );
  assert.match(errors[0].message, /failed authentication/);
  assert.match(errors[0].message, /nothing it sent was delivered/);
  await assertNothingDelivered(
    listener,
    () => connectIpc({ port, authKey: AUTH_KEY }),
  );
  await listener.close();
});

Deno.test("missing key on the client: both sides say so", async () => {
  using socket = tempSocket();
  const { errors, onError } = errorLog();
  const listener = await listenIpc({
    path: socket.path,
    authKey: AUTH_KEY,
    onError,
  });
  const error = await connectIpc({ path: socket.path }).catch((e) => e);
  assert.ok(
    error instanceof IpcHandshakeError && error.reason === "authentication",
    String(error),
  );
  assert.match(error.message, /requires authentication: pass its authKey/);
  await waitUntil(() => errors.length === 1, "the listener's report");
  assert.ok(
    errors[0] instanceof IpcHandshakeError &&
      errors[0].reason === "authentication",
  );
  assert.match(errors[0].message, /has no authKey/);
  await assertNothingDelivered(
    listener,
    () => connectIpc({ path: socket.path, authKey: AUTH_KEY }),
  );
  await listener.close();
});

Deno.test("key on the client but none on the server: the client refuses, both sides say so", async () => {
  using socket = tempSocket();
  const { errors, onError } = errorLog();
  const listener = await listenIpc({ path: socket.path, onError });
  const error = await connectIpc({ path: socket.path, authKey: AUTH_KEY })
    .catch((e) => e);
  assert.ok(
    error instanceof IpcHandshakeError && error.reason === "authentication",
    String(error),
  );
  assert.match(error.message, /does not authenticate/);
  await waitUntil(() => errors.length === 1, "the listener's report");
  assert.ok(
    errors[0] instanceof IpcHandshakeError &&
      errors[0].reason === "authentication",
  );
  assert.match(errors[0].message, /requires authentication/);
  await assertNothingDelivered(
    listener,
    () => connectIpc({ path: socket.path }),
  );
  await listener.close();
});

Deno.test("the handshake bytes are those docs/protocol.md documents, and a hand-made client can talk", async () => {
  const listener = await listenIpc({ port: 0, authKey: AUTH_KEY });
  const served = serveEcho(listener);
  const conn = await rawConnect(listener);
  const { hello, clientFrame, answer } = await handshakeByHand(conn);
  assert.equal(hello.length, 40);
  assert.equal(clientFrame.length, 72);
  assert.equal(answer.length, 40);
  assert.ok(await writeBytes(conn, '{"by":"hand"}\n'));
  assert.equal(text(await readBytes(conn, 14)), '{"by":"hand"}\n');
  closeConn(conn);
  await listener.close();
  await served;
});

Deno.test("a Python client that implements the handshake of docs/protocol.md talks to the listener", async () => {
  using socket = tempSocket();
  const listener = await listenIpc({ path: socket.path, authKey: AUTH_KEY });
  const served = serveEcho(listener);
  const { code, stdout, stderr } = await new Deno.Command("python3", {
    args: [fixture("python_client.py"), socket.path],
    env: { TETHER_TEST_KEY: AUTH_KEY },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.equal(new TextDecoder().decode(stdout).trim(), "{'from': 'python'}");
  await listener.close();
  await served;
});

Deno.test("a replayed client transcript fails: the server's nonce is fresh", async () => {
  const { errors, onError } = errorLog();
  const listener = await listenIpc({ port: 0, authKey: AUTH_KEY, onError });
  const recorded = await rawConnect(listener);
  const { hello, clientFrame } = await handshakeByHand(recorded);
  closeConn(recorded);
  // That one was genuine: its channel is delivered.
  await (await within(listener.accept(), "the genuine channel")).close();

  // An eavesdropper replays what the client sent, as it was.
  const replay = await rawConnect(listener);
  const freshHello = await readBytes(replay, 40);
  assert.notDeepEqual(freshHello.subarray(8), hello.subarray(8));
  assert.ok(
    await writeBytes(replay, concat(clientFrame, ascii('{"evil":1}\n'))),
  );
  assert.equal(text(await readToEnd(replay)), "tipc/1F\n");
  closeConn(replay);
  await waitUntil(
    () =>
      errors.some((e) =>
        e instanceof IpcHandshakeError && e.reason === "authentication"
      ),
    "the listener's report",
  );
  await assertNothingDelivered(
    listener,
    () => connectIpc({ port: portOf(listener), authKey: AUTH_KEY }),
  );
  await listener.close();
});

Deno.test("a replayed server transcript fails: the client's nonce is fresh", async () => {
  // Record a real server's answer to a client.
  const real = await listenIpc({ port: 0, authKey: AUTH_KEY });
  const recorded = await rawConnect(real);
  const { hello, answer } = await handshakeByHand(recorded);
  closeConn(recorded);
  await real.close();

  // An impostor without the key replays it to the next client.
  const impostor = Deno.listen({ hostname: LOOPBACK, port: 0 });
  const replaying = (async () => {
    const conn = await impostor.accept();
    await writeBytes(conn, hello);
    await readBytes(conn, 72);
    await writeBytes(conn, answer);
    await readToEnd(conn);
    closeConn(conn);
  })();
  const error = await connectIpc({
    port: impostor.addr.port,
    authKey: AUTH_KEY,
  }).catch((e) => e);
  assert.ok(
    error instanceof IpcHandshakeError && error.reason === "authentication",
    String(error),
  );
  assert.match(error.message, /could not prove that it knows the authKey/);
  await replaying;
  impostor.close();
});

Deno.test("a proof made for the other direction is refused: the role is bound into the MAC", async () => {
  const { errors, onError } = errorLog();
  const listener = await listenIpc({ port: 0, authKey: AUTH_KEY, onError });
  const conn = await rawConnect(listener);
  const hello = await readBytes(conn, 40);
  const serverNonce = hello.slice(8);
  const clientNonce = crypto.getRandomValues(new Uint8Array(32));
  // Right key, right nonces, but labelled as the server's proof.
  const reflected = await proof(AUTH_KEY, "server", serverNonce, clientNonce);
  await writeBytes(conn, concat(ascii("tipc/1a\n"), clientNonce, reflected));
  assert.equal(text(await readToEnd(conn)), "tipc/1F\n");
  closeConn(conn);
  await waitUntil(() => errors.length === 1, "the listener's report");
  assert.ok(
    errors[0] instanceof IpcHandshakeError &&
      errors[0].reason === "authentication",
  );

  // The same frame labelled as the client's is accepted: the label is what failed.
  const control = await rawConnect(listener);
  await handshakeByHand(control);
  closeConn(control);
  await listener.close();
});

Deno.test("a client speaking another version of the handshake is told so", async () => {
  const { errors, onError } = errorLog();
  const listener = await listenIpc({ port: 0, authKey: AUTH_KEY, onError });
  const conn = await rawConnect(listener);
  await readBytes(conn, 40);
  await writeBytes(conn, "tipc/2a\n");
  await readToEnd(conn);
  closeConn(conn);
  await waitUntil(() => errors.length === 1, "the listener's report");
  assert.ok(errors[0] instanceof IpcHandshakeError);
  assert.match(errors[0].message, /version 2 .* this side speaks version 1/);
  await listener.close();
});

Deno.test("the key may be bytes on one side and the same bytes as a string on the other", async () => {
  const listener = await listenIpc({
    port: 0,
    authKey: new TextEncoder().encode(AUTH_KEY),
  });
  const served = serveEcho(listener);
  const client = await connectIpc({
    port: portOf(listener),
    authKey: AUTH_KEY,
  });
  await client.send("same key");
  assert.equal(await within(client.receive(), "echo"), "same key");
  await client.close();
  await listener.close();
  await served;
});
