/**
 * Helpers of the tests of channels between unrelated processes: temporary
 * socket paths, a self-signed certificate, an echo server, and raw
 * connections that speak the handshake by hand.
 *
 * Every address here is on this machine: 127.0.0.1 or a socket in a fresh
 * temporary directory.
 *
 * @module
 */

import type { IpcJsonStream, IpcListener } from "../mod.ts";
import { Label, NONCE_BYTES, TAG_BYTES } from "../src/net/handshake.ts";
import { within } from "./helpers.ts";

/** The only host the tests listen on or connect to. */
export const LOOPBACK = "127.0.0.1";

/** The key the tests' servers and clients share. */
export const AUTH_KEY = "test key 0123456789abcdef0123456789abcdef";

/** A socket path in a fresh temporary directory (mode 0700), removed on dispose. */
export interface TempSocket extends Disposable {
  /** The temporary directory. */
  dir: string;
  /** `dir/ipc.sock`. */
  path: string;
}

/** A socket path in a fresh temporary directory, removed with `using`. */
export function tempSocket(): TempSocket {
  const dir = Deno.makeTempDirSync({ prefix: "tipc-" });
  return {
    dir,
    path: `${dir}/ipc.sock`,
    [Symbol.dispose]() {
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

/** The port of a TCP listener. */
export function portOf<In, Out>(listener: IpcListener<In, Out>): number {
  const addr = listener.addr;
  if (addr.transport !== "tcp") throw new Error("not a TCP listener");
  return addr.port;
}

let certificate: Promise<{ cert: string; key: string }> | undefined;

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made once per test
 * process with `openssl` (EC P-256, valid one day).
 */
export function selfSignedCertificate(): Promise<
  { cert: string; key: string }
> {
  certificate ??= (async () => {
    const dir = Deno.makeTempDirSync({ prefix: "tipc-cert-" });
    try {
      const { success, stderr } = await new Deno.Command("openssl", {
        args: [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=localhost",
          "-addext",
          "subjectAltName=IP:127.0.0.1,DNS:localhost",
          // rustls refuses a CA certificate as the server's own.
          "-addext",
          "basicConstraints=critical,CA:FALSE",
          "-keyout",
          `${dir}/key.pem`,
          "-out",
          `${dir}/cert.pem`,
        ],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (!success) {
        throw new Error(
          `openssl could not make a test certificate: ${
            new TextDecoder().decode(stderr)
          }`,
        );
      }
      return {
        cert: Deno.readTextFileSync(`${dir}/cert.pem`),
        key: Deno.readTextFileSync(`${dir}/key.pem`),
      };
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  })();
  return certificate;
}

/**
 * Serves `listener`: every channel echoes each message back, until the
 * listener closes. Resolves when the listener and every channel are done;
 * the errors channels ended with are collected, never thrown.
 */
export function serveEcho<In, Out>(
  listener: IpcListener<In, Out>,
  errors: unknown[] = [],
): Promise<void> {
  return (async () => {
    const clients: Promise<void>[] = [];
    for await (const client of listener) {
      clients.push(
        echo(client).catch((error) => {
          errors.push(error);
        }),
      );
    }
    await Promise.all(clients);
  })();
}

async function echo<In, Out>(client: IpcJsonStream<In, Out>): Promise<void> {
  for await (const message of client) {
    await client.send(message as unknown as Out);
  }
}

/** Connects to a listener without the library: for speaking bytes by hand. */
export function rawConnect<In, Out>(
  listener: IpcListener<In, Out>,
): Promise<Deno.Conn> {
  const addr = listener.addr;
  return "path" in addr
    ? Deno.connect({ transport: "unix", path: addr.path })
    : Deno.connect({ hostname: LOOPBACK, port: addr.port });
}

/**
 * Reads exactly `length` bytes, or fewer if the connection ends first.
 * Fails after 30 s instead of hanging.
 */
export function readBytes(
  conn: Deno.Conn,
  length: number,
): Promise<Uint8Array> {
  return within(readBytesUntimed(conn, length), `${length} bytes`);
}

async function readBytesUntimed(
  conn: Deno.Conn,
  length: number,
): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const count = await conn.read(bytes.subarray(filled)).catch(() => null);
    if (count === null) break;
    filled += count;
  }
  return bytes.subarray(0, filled);
}

/**
 * Reads until the connection ends (or fails); returns what came. Fails
 * after 30 s instead of hanging.
 */
export function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  return within(readToEndUntimed(conn), "the end of the connection");
}

async function readToEndUntimed(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  while (true) {
    const count = await conn.read(buffer).catch(() => null);
    if (count === null) break;
    chunks.push(buffer.slice(0, count));
  }
  const all = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  return all;
}

/** Writes all of `bytes` (a string as UTF-8); `false` if the connection failed. */
export async function writeBytes(
  conn: Deno.Conn,
  bytes: Uint8Array | string,
): Promise<boolean> {
  const data = typeof bytes === "string"
    ? new TextEncoder().encode(bytes)
    : bytes;
  try {
    let written = 0;
    while (written < data.length) {
      written += await conn.write(data.subarray(written));
    }
    return true;
  } catch {
    return false;
  }
}

/** ASCII bytes of a tag or label. */
export function ascii(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text);
}

/** Text of ASCII bytes. */
export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const all = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

/**
 * HMAC-SHA256 of `label ‖ serverNonce ‖ clientNonce` computed here with Web
 * Crypto directly, as another implementation would from docs/protocol.md.
 */
export async function proof(
  authKey: string,
  role: "client" | "server",
  serverNonce: Uint8Array,
  clientNonce: Uint8Array,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    ascii(authKey),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const label = role === "client" ? Label.client : Label.server;
  return new Uint8Array(
    await crypto.subtle.sign(
      "HMAC",
      key,
      concat(label, serverNonce, clientNonce),
    ),
  );
}

/**
 * Completes the client's side of an authenticated handshake by hand on
 * `conn`, as docs/protocol.md describes it. Returns the transcript.
 */
export async function handshakeByHand(
  conn: Deno.Conn,
  authKey = AUTH_KEY,
): Promise<{ hello: Uint8Array; clientFrame: Uint8Array; answer: Uint8Array }> {
  const hello = await readBytes(conn, TAG_BYTES + NONCE_BYTES);
  if (text(hello.subarray(0, TAG_BYTES)) !== "tipc/1A\n") {
    throw new Error(`unexpected greeting ${JSON.stringify(text(hello))}`);
  }
  const serverNonce = hello.slice(TAG_BYTES);
  const clientNonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const clientFrame = concat(
    ascii("tipc/1a\n"),
    clientNonce,
    await proof(authKey, "client", serverNonce, clientNonce),
  );
  await writeBytes(conn, clientFrame);
  const answer = await readBytes(conn, TAG_BYTES + 32);
  if (text(answer.subarray(0, TAG_BYTES)) !== "tipc/1K\n") {
    throw new Error(`not accepted: ${JSON.stringify(text(answer))}`);
  }
  const expected = await proof(authKey, "server", serverNonce, clientNonce);
  if (expected.some((byte, i) => byte !== answer[TAG_BYTES + i])) {
    throw new Error("the server's proof is wrong");
  }
  return { hello, clientFrame, answer };
}

/** Closes `conn`, ignoring that it may be closed already. */
export function closeConn(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}

/** Collects what a listener reports to `onError`. */
export function errorLog(): {
  errors: Error[];
  onError: (error: Error) => void;
} {
  const errors: Error[] = [];
  return { errors, onError: (error) => errors.push(error) };
}
