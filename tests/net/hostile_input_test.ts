// Strangers and broken peers: garbage before and after the handshake, lines
// that never end, stalled handshakes, connections cut mid-message, random
// bytes. The listener reports, cuts off the offender, and goes on serving.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  connectIpc,
  IpcClosedError,
  IpcHandshakeError,
  type IpcListener,
  IpcMessageTooLargeError,
  IpcProtocolError,
  listenIpc,
} from "../../mod.ts";
import { waitUntil, within } from "../helpers.ts";
import {
  ascii,
  AUTH_KEY,
  closeConn,
  concat,
  errorLog,
  handshakeByHand,
  LOOPBACK,
  portOf,
  rawConnect,
  readBytes,
  readToEnd,
  serveEcho,
  text,
  writeBytes,
} from "../net_helpers.ts";

/**
 * Serves `listener` collecting what its channels receive and the errors
 * their iterators throw; the well-behaved clients of `assertStillServes`
 * are answered.
 */
function serveCollecting(listener: IpcListener<unknown, unknown>): {
  received: unknown[];
  failures: unknown[];
  done: Promise<void>;
} {
  const received: unknown[] = [];
  const failures: unknown[] = [];
  const done = (async () => {
    const running: Promise<void>[] = [];
    for await (const channel of listener) {
      running.push((async () => {
        try {
          for await (const message of channel) {
            if (isProbe(message)) await channel.send(message);
            else received.push(message);
          }
        } catch (error) {
          failures.push(error);
        }
      })());
    }
    await Promise.all(running);
  })();
  return { received, failures, done };
}

function isProbe(message: unknown): boolean {
  return typeof message === "object" && message !== null && "still" in message;
}

/** A well-behaved client gets its echo: the listener still serves. */
async function assertStillServes(
  listener: IpcListener<unknown, unknown>,
): Promise<void> {
  const client = await connectIpc({
    port: portOf(listener),
    authKey: AUTH_KEY,
  });
  await client.send({ still: "served" });
  assert.deepEqual(await within(client.receive(), "the echo"), {
    still: "served",
  });
  await client.close();
}

Deno.test("garbage before the handshake: the offender is cut off with a clear report", async () => {
  const { errors, onError } = errorLog();
  const listener = await listenIpc({ port: 0, authKey: AUTH_KEY, onError });
  const served = serveEcho(listener);
  const conn = await rawConnect(listener);
  await writeBytes(conn, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  const received = await readToEnd(conn);
  closeConn(conn);
  // It saw the greeting, then the end: no message of the channel.
  assert.equal(text(received.subarray(0, 8)), "tipc/1A\n");
  assert.equal(received.length, 40);
  await waitUntil(() => errors.length === 1, "the listener's report");
  assert.ok(errors[0] instanceof IpcHandshakeError, String(errors[0]));
  assert.match(errors[0].message, /sent "GET \/ HT"/);
  await assertStillServes(listener);
  await listener.close();
  await served;
});

Deno.test("an onError handler that throws does not take the listener down", async () => {
  let calls = 0;
  const listener = await listenIpc({
    port: 0,
    authKey: AUTH_KEY,
    onError: () => {
      calls++;
      throw new Error("a broken handler");
    },
  });
  const served = serveEcho(listener);
  for (let i = 0; i < 3; i++) {
    const conn = await rawConnect(listener);
    await writeBytes(conn, "garbage!");
    await readToEnd(conn);
    closeConn(conn);
  }
  await waitUntil(() => calls === 3, "the handler's calls");
  await assertStillServes(listener);
  await listener.close();
  await served;
});

Deno.test("garbage after the handshake: the messages before it arrive, then that channel fails with IpcProtocolError", async () => {
  const listener = await listenIpc({ port: 0, authKey: AUTH_KEY });
  const { received, failures, done } = serveCollecting(listener);
  const conn = await rawConnect(listener);
  await handshakeByHand(conn);
  await writeBytes(conn, '{"ok":1}\nthis is not json\n{"never":"delivered"}\n');
  await waitUntil(() => failures.length === 1, "the channel's error");
  // The server hung up on it.
  await readToEnd(conn);
  closeConn(conn);
  assert.deepEqual(received, [{ ok: 1 }]);
  assert.ok(failures[0] instanceof IpcProtocolError);
  assert.equal(failures[0].excerpt, "this is not json");
  await assertStillServes(listener);
  await listener.close();
  await done;
});

Deno.test("a line over maxMessageBytes fails that channel only", async () => {
  const listener = await listenIpc({
    port: 0,
    authKey: AUTH_KEY,
    maxMessageBytes: 1024,
  });
  const { received, failures, done } = serveCollecting(listener);
  const conn = await rawConnect(listener);
  await handshakeByHand(conn);
  await writeBytes(conn, `"small"\n"${"x".repeat(2000)}"\n"after"\n`);
  await waitUntil(() => failures.length === 1, "the channel's error");
  await readToEnd(conn);
  closeConn(conn);
  assert.deepEqual(received, ["small"]);
  assert.ok(failures[0] instanceof IpcMessageTooLargeError);
  assert.equal(failures[0].limit, 1024);
  await assertStillServes(listener);
  await listener.close();
  await done;
});

Deno.test("a line that never ends is cut off at the default network limit, not buffered", async () => {
  const listener = await listenIpc({ port: 0, authKey: AUTH_KEY });
  const channelErrors: unknown[] = [];
  const served = serveEcho(listener, channelErrors);
  const conn = await rawConnect(listener);
  await handshakeByHand(conn);
  const chunk = ascii("x".repeat(1024 * 1024));
  let sent = 0;
  // Up to 256 MiB; the server must hang up long before.
  while (sent < 256 && await writeBytes(conn, chunk)) sent++;
  closeConn(conn);
  assert.ok(sent < 256, `the server took ${sent} MiB of one line`);
  await waitUntil(() => channelErrors.length === 1, "the channel's error");
  const error = channelErrors[0];
  assert.ok(error instanceof IpcMessageTooLargeError, String(error));
  assert.equal(error.limit, 4 * 1024 * 1024);
  await assertStillServes(listener);
  await listener.close();
  await served;
});

Deno.test("a stalled handshake is cut at handshakeTimeout while others are served", async () => {
  const { errors, onError } = errorLog();
  const listener = await listenIpc({
    port: 0,
    authKey: AUTH_KEY,
    handshakeTimeout: 1_000, // short, yet ample for the well-behaved client
    onError,
  });
  const served = serveEcho(listener);
  // Half a proof, then nothing; and a connection that says nothing at all.
  const half = await rawConnect(listener);
  await readBytes(half, 40);
  await writeBytes(half, "tipc/1a\n0123456789");
  const silent = await rawConnect(listener);
  await assertStillServes(listener);
  // The server hangs up on both.
  assert.equal((await readToEnd(half)).length, 0);
  assert.equal((await readToEnd(silent)).length, 40);
  closeConn(half);
  closeConn(silent);
  await waitUntil(() => errors.length === 2, "the listener's reports");
  for (const error of errors) {
    assert.ok(
      error instanceof IpcHandshakeError && error.reason === "timeout",
      String(error),
    );
    assert.equal(error.timeoutMs, 1_000);
  }
  await waitUntil(() => listener.connections === 0, "the slots to free");
  await listener.close();
  await served;
});

Deno.test("a client cut off in the middle of a message: earlier messages arrive, then a truncation error", async () => {
  const listener = await listenIpc({ port: 0, authKey: AUTH_KEY });
  const received: unknown[] = [];
  const failures: unknown[] = [];
  const served = (async () => {
    for await (const channel of listener) {
      try {
        for await (const message of channel) received.push(message);
      } catch (error) {
        failures.push(error);
      }
    }
  })();
  const conn = await rawConnect(listener);
  await handshakeByHand(conn);
  await writeBytes(conn, '{"n":1}\n{"n":2}\n{"partial":');
  closeConn(conn);
  await waitUntil(() => failures.length === 1, "the channel's error");
  assert.deepEqual(received, [{ n: 1 }, { n: 2 }]);
  assert.ok(failures[0] instanceof IpcProtocolError);
  assert.equal(failures[0].truncated, true);
  await listener.close();
  await served;
});

Deno.test("connectIpc to something that is not a tether-ipc server fails clearly", async () => {
  const impostor = Deno.listen({ hostname: LOOPBACK, port: 0 });
  const answering = (async () => {
    for (const answer of ["HTTP/1.1 400 Bad Request\r\n\r\n", ""]) {
      const conn = await impostor.accept();
      if (answer !== "") await writeBytes(conn, answer);
      await readToEnd(conn);
      closeConn(conn);
    }
  })();
  const port = impostor.addr.port;
  const garbage = await connectIpc({ port, authKey: AUTH_KEY }).catch((e) => e);
  assert.ok(garbage instanceof IpcHandshakeError, String(garbage));
  assert.match(garbage.message, /sent "HTTP\/1.1"/);
  const silent = await connectIpc({
    port,
    authKey: AUTH_KEY,
    handshakeTimeout: 200,
  }).catch((e) => e);
  assert.ok(
    silent instanceof IpcHandshakeError && silent.reason === "timeout",
    String(silent),
  );
  await answering;
  impostor.close();
});

Deno.test("fuzz: random bytes before and after the handshake never crash the listener nor stop it serving", async () => {
  const { errors, onError } = errorLog();
  const listener = await listenIpc({
    port: 0,
    authKey: AUTH_KEY,
    maxMessageBytes: 4096,
    handshakeTimeout: 2_000,
    onError,
  });
  let channels = 0;
  const channelErrors: unknown[] = [];
  const served = (async () => {
    const running: Promise<void>[] = [];
    for await (const channel of listener) {
      channels++;
      running.push((async () => {
        try {
          for await (const message of channel) await channel.send(message);
        } catch (error) {
          channelErrors.push(error);
        }
      })());
    }
    await Promise.all(running);
  })();

  let authenticated = 0;
  const prefixes = ["", "tipc/1a\n", "tipc/1n\n", "tipc/1X\n", "tipc/", "{}\n"];
  await fc.assert(
    fc.asyncProperty(
      fc.boolean(),
      fc.constantFrom(...prefixes),
      fc.uint8Array({ maxLength: 6000, size: "max" }),
      fc.boolean(),
      async (afterHandshake, prefix, noise, halfClose) => {
        const conn = await rawConnect(listener);
        if (afterHandshake) {
          await handshakeByHand(conn);
          authenticated++;
        }
        await writeBytes(conn, concat(ascii(prefix), noise));
        if (halfClose) {
          // Let the server finish with it, reading whatever it answers.
          await conn.closeWrite().catch(() => {});
          await readToEnd(conn);
        }
        closeConn(conn);
        await assertStillServes(listener);
      },
    ),
    { numRuns: 120, seed: 20240611 },
  );
  // Random bytes never made a channel: only the hand-made handshakes and the
  // well-behaved clients did.
  assert.equal(channels, authenticated + 120);
  assert.ok(errors.every((error) => error instanceof IpcHandshakeError));
  await waitUntil(() => listener.connections === 0, "every connection to end");
  await listener.close();
  await served;
  // Channels fed noise failed only as bad input (or as closed, when the
  // echo went to a peer that had hung up).
  const unexpected = channelErrors.filter((error) =>
    !(error instanceof IpcProtocolError ||
      error instanceof IpcMessageTooLargeError ||
      error instanceof IpcClosedError)
  );
  assert.deepEqual(unexpected, []);
});
