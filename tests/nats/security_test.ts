// NATS's own security, passed through: the TLS + NKEY setup of docs/nats.md
// (with per-role permissions) against a real nats-server, a token, a user
// and password; and connections without the right credentials refused.
import assert from "node:assert/strict";
import { nkeys } from "@nats-io/transport-node";
import { connectNatsCalls, serveNatsCalls } from "../../nats.ts";
import { startNatsServer } from "./nats_server.ts";

/** A CA and a server certificate for 127.0.0.1 signed by it, made with openssl. */
async function certificates(dir: string): Promise<void> {
  const run = async (...args: string[]) => {
    const { success, stderr } = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) {
      throw new Error(
        `openssl ${args[0]}: ${new TextDecoder().decode(stderr)}`,
      );
    }
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  await run(
    "req",
    "-x509",
    ...ec,
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=test CA",
    "-keyout",
    "ca-key.pem",
    "-out",
    "ca.pem",
  );
  await run(
    "req",
    ...ec,
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    "server-key.pem",
    "-out",
    "server.csr",
  );
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n",
  );
  await run(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca-key.pem",
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    "ext.cnf",
    "-out",
    "server.pem",
  );
}

/**
 * Whether a connection with `options` is refused: tried in a child process
 * (see connect_fixture.ts). Returns how: the client's error, or the child's
 * crash on ECONNRESET; fails if it connected.
 */
async function refusal(options: Record<string, unknown>): Promise<string> {
  const { stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-net",
      "--allow-read",
      new URL("./connect_fixture.ts", import.meta.url).pathname,
      JSON.stringify(options),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout).trim();
  const err = new TextDecoder().decode(stderr);
  assert.notEqual(out, "connected");
  if (out.startsWith("refused: ")) return out;
  assert.match(err, /ECONNRESET/, `neither refused nor reset: ${out} ${err}`);
  return "reset";
}

function userKeys(): { publicKey: string; seed: string } {
  const user = nkeys.createUser();
  return {
    publicKey: user.getPublicKey(),
    seed: new TextDecoder().decode(user.getSeed()),
  };
}

Deno.test("nats security: the TLS + NKEY setup of docs/nats.md", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tipc-nats-tls-" });
  try {
    await certificates(dir);
    const caller = userKeys();
    const worker = userKeys();
    await using server = await startNatsServer({
      scheme: "tls",
      config: `
tls {
  cert_file: "${dir}/server.pem"
  key_file: "${dir}/server-key.pem"
}
authorization {
  users: [
    { nkey: "${caller.publicKey}"
      permissions: { publish: ["math.>"], subscribe: ["_INBOX.>"] } }
    { nkey: "${worker.publicKey}"
      permissions: { subscribe: ["math.>", "$SRV.>"], allow_responses: true } }
  ]
}
`,
    });
    const tls = { caFile: `${dir}/ca.pem` };
    await using _worker = await serveNatsCalls(
      { add: ({ a, b }: { a: number; b: number }) => a + b },
      { servers: server.url, tls, nkeySeed: worker.seed, service: "math" },
    );
    await using calls = await connectNatsCalls({
      servers: server.url,
      tls,
      nkeySeed: caller.seed,
      service: "math",
    });
    assert.equal(await calls.request("add", { a: 40, b: 2 }), 42);
    // A server certificate not signed by a trusted CA: refused.
    assert.match(
      await refusal({
        servers: server.url,
        nkeySeed: caller.seed,
        service: "math",
      }),
      /certificate|verify|reset/i,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nats security: connections without an NKEY the server knows are refused", async () => {
  // Without TLS: a refused TLS connection can end in an uncaught ECONNRESET
  // from the NATS client's socket under Deno (see docs/nats.md).
  const known = userKeys();
  await using server = await startNatsServer({
    config: `authorization { users: [ { nkey: "${known.publicKey}" } ] }\n`,
  });
  const options = { servers: server.url, service: "math" };
  await using calls = await connectNatsCalls({
    ...options,
    nkeySeed: known.seed,
  });
  assert.equal(calls.stats().failed, 0);
  assert.match(await refusal(options), /authorization|reset/i);
  assert.match(
    await refusal({ ...options, nkeySeed: userKeys().seed }),
    /authorization|reset/i,
  );
});

Deno.test("nats security: token, and user and password", async () => {
  {
    await using server = await startNatsServer({
      config: `authorization { token: "s3cret-token" }\n`,
    });
    const options = {
      servers: server.url,
      service: "t",
      token: "s3cret-token",
    };
    await using _worker = await serveNatsCalls({ ok: () => "ok" }, options);
    await using calls = await connectNatsCalls(options);
    assert.equal(await calls.request("ok"), "ok");
    assert.match(
      await refusal({ ...options, token: "wrong" }),
      /authorization|reset/i,
    );
  }
  {
    await using server = await startNatsServer({
      config: `authorization { user: "app", password: "pa55word" }\n`,
    });
    const options = {
      servers: server.url,
      service: "u",
      user: "app",
      pass: "pa55word",
    };
    await using _worker = await serveNatsCalls({ ok: () => "ok" }, options);
    await using calls = await connectNatsCalls(options);
    assert.equal(await calls.request("ok"), "ok");
    assert.match(
      await refusal({ ...options, pass: "wrong" }),
      /authorization|reset/i,
    );
  }
});

Deno.test("nats security: an invalid nkeySeed is refused before connecting", async () => {
  await assert.rejects(
    connectNatsCalls({ service: "x", nkeySeed: "UABC" }),
    /nkeySeed must be an NKEY seed/,
  );
});
