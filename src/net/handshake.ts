/**
 * The opening handshake of a channel between unrelated processes: a version
 * check and, when the sides hold a key, mutual HMAC-SHA256 challenge-response
 * authentication. It runs on the raw connection before any message is read,
 * so nothing from an unauthenticated peer reaches the application.
 *
 * Every frame starts with an 8-byte ASCII tag ending in `"\n"` (readable
 * with `nc`, and a keyless NDJSON peer fails at once on it); nonces and MACs
 * are raw 32-byte values. With a key (all sizes in bytes):
 *
 * ```text
 * server -> client  "tipc/1A\n" ‖ Ns(32)                    Ns: fresh random nonce
 * client -> server  "tipc/1a\n" ‖ Nc(32) ‖ MACc(32)         MACc = HMAC(K, "tether-ipc/1 client" ‖ Ns ‖ Nc)
 * server -> client  "tipc/1K\n" ‖ MACs(32)                  MACs = HMAC(K, "tether-ipc/1 server" ‖ Ns ‖ Nc)
 *               or  "tipc/1F\n"  and the server closes     (MACc was wrong)
 * ```
 *
 * Without a key the server sends `"tipc/1N\n"` and the client answers
 * `"tipc/1n\n"`. A client that cannot go on (it has no key but the server
 * wants one, or it has one but the server offers none) sends `"tipc/1X\n"`
 * and closes. A server at its connection limit sends `"tipc/1B\n"` instead
 * of a greeting, or instead of `"tipc/1K\n"` when the last slot was taken
 * during the handshake, and closes.
 *
 * The client proves first, so a stranger probing the server never obtains a
 * MAC made with the key. Both nonces enter both MACs and a role label tells
 * them apart, so a recorded transcript fails against fresh nonces and a MAC
 * from one direction is useless in the other.
 *
 * Below: the key and its HMAC proofs, the frames read and written on the raw
 * connection (each failure named with the peer), then the two sides.
 *
 * @module
 */

import { messageOf } from "../internal/error_message.ts";
import { IpcConnectionRefusedError, IpcHandshakeError } from "../errors.ts";

/**
 * The shortest `authKey` accepted, in bytes: shorter keys are guessable
 * offline. Use 32 random bytes.
 */
export const MIN_AUTH_KEY_BYTES = 16;

const CLIENT_LABEL = new TextEncoder().encode("tether-ipc/1 client");
const SERVER_LABEL = new TextEncoder().encode("tether-ipc/1 server");

/**
 * Checks and imports a shared secret as an HMAC-SHA256 key.
 *
 * @param authKey The secret; a string is taken as its UTF-8 bytes.
 * @throws {RangeError} When it is shorter than 16 bytes.
 */
export async function importAuthKey(
  authKey: string | Uint8Array,
): Promise<CryptoKey> {
  if (typeof authKey !== "string" && !(authKey instanceof Uint8Array)) {
    throw new TypeError(
      `authKey must be a string or a Uint8Array, got ${typeof authKey}`,
    );
  }
  const bytes = typeof authKey === "string"
    ? new TextEncoder().encode(authKey)
    : new Uint8Array(authKey);
  if (bytes.length < MIN_AUTH_KEY_BYTES) {
    throw new RangeError(
      `authKey is ${bytes.length} bytes long; use at least ${MIN_AUTH_KEY_BYTES} ` +
        "(better: 32 random bytes from crypto.getRandomValues(new Uint8Array(32)), " +
        "stored where only the two sides can read it).",
    );
  }
  return await crypto.subtle.importKey(
    "raw",
    bytes,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

/** HMAC-SHA256 of `label ‖ serverNonce ‖ clientNonce`. */
async function hmac(
  key: CryptoKey,
  label: Uint8Array,
  serverNonce: Uint8Array,
  clientNonce: Uint8Array,
): Promise<Uint8Array> {
  const data = concat(label, serverNonce, clientNonce);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
}

/** The role labels, for tests and other implementations. */
export const Label = { client: CLIENT_LABEL, server: SERVER_LABEL } as const;

/**
 * Compares two byte arrays in time that depends only on their length, so a
 * forger learns nothing from how long a comparison took.
 */
function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

/** Length of every tag. */
export const TAG_BYTES = 8;
const TAG_PREFIX = "tipc/";

/** Closes `conn`, ignoring that it may be closed already. */
export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed (by a timeout, or by the peer's failure).
  }
}

/** Which side the peer is. */
type Role = "client" | "server";

/**
 * Runs `work` with a deadline. When it passes, the connection is closed, so
 * a pending read fails at once and the error says the time ran out.
 */
export async function withTimeout(
  conn: Deno.Conn,
  timeoutMs: number,
  peerRole: Role,
  peer: string,
  work: () => Promise<void>,
): Promise<void> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    closeQuietly(conn);
  }, timeoutMs);
  const timeoutError = () =>
    new IpcHandshakeError(
      `The ${peerRole} at ${peer} did not complete the handshake within ${timeoutMs} ms; the connection was closed. ` +
        (peerRole === "client"
          ? "A stalled or hostile client, or a link too slow for the listener's handshakeTimeout."
          : "Is a tether-ipc listener there? A slow link may need a larger handshakeTimeout."),
      "timeout",
      { timeoutMs },
    );
  try {
    await work();
  } catch (error) {
    if (timedOut) throw timeoutError();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw timeoutError();
}

async function tlsHandshake(
  conn: Deno.Conn,
  peerRole: Role,
  peer: string,
): Promise<void> {
  if (!isTlsConn(conn)) return;
  try {
    await conn.handshake();
  } catch (error) {
    throw new IpcHandshakeError(
      `The TLS handshake with the ${peerRole} at ${peer} failed: ${
        messageOf(error)
      }. ` +
        (peerRole === "server"
          ? "Pass the certificate that signed the server's (caCerts) and the name it was issued for (serverName)."
          : "The client may not trust this listener's certificate, or does not speak TLS."),
      "tls",
      { cause: error },
    );
  }
}

function isTlsConn(conn: Deno.Conn): conn is Deno.TlsConn {
  return typeof (conn as Partial<Deno.TlsConn>).handshake === "function";
}

/**
 * Failures of connections that closed before sending a byte: the check
 * `listenIpc()` makes on a socket in use, a port check. Not worth reporting.
 */
const silentCloses = new WeakSet<Error>();

/** `true` when `error` is a connection that closed before sending a byte. */
export function closedSilently(error: unknown): boolean {
  return error instanceof Error && silentCloses.has(error);
}

/** Marks `error` as the failure of a connection that never sent a byte. */
function silentClose<E extends Error>(error: E): E {
  silentCloses.add(error);
  return error;
}

async function readExactly(
  conn: Deno.Conn,
  length: number,
  peerRole: Role,
  peer: string,
  first = false,
): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let filled = 0;
  // With `first`, a peer gone before its first byte closed silently.
  const failed = (error: Error) =>
    first && filled === 0 ? silentClose(error) : error;
  while (filled < length) {
    let count: number | null;
    try {
      count = await conn.read(bytes.subarray(filled));
    } catch (error) {
      throw failed(lostConnection(peerRole, peer, error));
    }
    if (count === null) {
      throw failed(
        new IpcHandshakeError(
          `The ${peerRole} at ${peer} closed the connection in the middle of the handshake` +
            (peerRole === "client"
              ? " (it gave up, or does not speak this protocol)."
              : ". Is it a tether-ipc listener, and was this client's key accepted?"),
          "closed",
        ),
      );
    }
    filled += count;
  }
  return bytes;
}

async function readTag(
  conn: Deno.Conn,
  peerRole: Role,
  peer: string,
  first = false,
): Promise<string> {
  const bytes = await readExactly(conn, TAG_BYTES, peerRole, peer, first);
  return String.fromCharCode(...bytes);
}

function expectTag(
  tag: string,
  wanted: string,
  peerRole: Role,
  peer: string,
): void {
  if (tag === wanted) return;
  const version = tag.startsWith(TAG_PREFIX) ? tag[TAG_PREFIX.length] : "";
  if (version !== "" && version !== "1") {
    throw new IpcHandshakeError(
      `The ${peerRole} at ${peer} speaks version ${version} of the tether-ipc handshake; this side speaks version 1. ` +
        "The connection was closed: use the same library version on both sides.",
      "protocol",
    );
  }
  throw new IpcHandshakeError(
    `The ${peerRole} at ${peer} sent ${
      JSON.stringify(tag)
    } where the tether-ipc handshake expected ` +
      `${
        JSON.stringify(wanted)
      }; the connection was closed and nothing it sent was delivered. ` +
      `Is it a tether-ipc ${peerRole}? Both sides must use ${
        peerRole === "client" ? "connectIpc()" : "listenIpc()"
      } or implement the handshake described in docs/protocol.md.`,
    "protocol",
  );
}

export async function send(
  conn: Deno.Conn,
  peerRole: Role,
  peer: string,
  bytes: Uint8Array,
): Promise<void> {
  try {
    let written = 0;
    while (written < bytes.length) {
      written += await conn.write(bytes.subarray(written));
    }
  } catch (error) {
    throw lostConnection(peerRole, peer, error);
  }
}

function lostConnection(
  peerRole: Role,
  peer: string,
  error: unknown,
): IpcHandshakeError {
  return new IpcHandshakeError(
    `The connection to the ${peerRole} at ${peer} failed during the handshake: ${
      messageOf(error)
    }.`,
    "closed",
    { cause: error },
  );
}

export function ascii(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const part of parts) length += part.length;
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

/** Length of each side's random nonce. */
export const NONCE_BYTES = 32;
/** Length of an HMAC-SHA256 value. */
const MAC_BYTES = 32;
/**
 * Default of the `handshakeTimeout` option, in milliseconds.
 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;

/** The tags of the handshake, protocol version 1. */
const Tag = {
  /** Server greeting: authentication required, a nonce follows. */
  serverAuth: "tipc/1A\n",
  /** Server greeting: no authentication. */
  serverOpen: "tipc/1N\n",
  /** Server: at the connection limit, closing. */
  serverBusy: "tipc/1B\n",
  /** Server: the client's proof is right, the server's proof follows. */
  serverAccept: "tipc/1K\n",
  /** Server: the client's proof is wrong, closing. */
  serverReject: "tipc/1F\n",
  /** Client: its nonce and proof follow. */
  clientProof: "tipc/1a\n",
  /** Client: accepts a server without authentication. */
  clientOpen: "tipc/1n\n",
  /** Client: cannot go on (key missing on one side), closing. */
  clientRefuse: "tipc/1X\n",
} as const;

/** What the handshake needs besides the connection. */
export interface HandshakeOptions {
  /** The HMAC key from {@linkcode importAuthKey}, or `undefined` for none. */
  key: CryptoKey | undefined;
  /** Limit of the whole handshake, TLS included, in milliseconds. */
  timeoutMs: number;
  /** How to name the peer in error messages, e.g. `"127.0.0.1:40112"`. */
  peer: string;
  /**
   * The server asks it once the client is authenticated, before telling the
   * client so: `false` turns the client away as busy (the connection limit
   * was reached during the handshake).
   */
  admit?: () => boolean;
}

/**
 * Runs the server's side of the handshake. Resolves when the peer may send
 * messages; on any failure throws, and the caller closes the connection.
 *
 * @throws {IpcHandshakeError} Saying what failed (`reason`).
 */
export function serverHandshake(
  conn: Deno.Conn,
  options: HandshakeOptions,
): Promise<void> {
  const { key, peer } = options;
  return withTimeout(conn, options.timeoutMs, "client", peer, async () => {
    await tlsHandshake(conn, "client", peer);
    if (key === undefined) {
      const tag = await greet(conn, peer, ascii(Tag.serverOpen));
      if (tag === Tag.clientRefuse) {
        throw new IpcHandshakeError(
          `The client at ${peer} requires authentication (it was given an authKey) but this listener has none; ` +
            "the connection was closed. Give the listener the same authKey.",
          "authentication",
        );
      }
      expectTag(tag, Tag.clientOpen, "client", peer);
      // The client already thinks it is connected: it can only be cut off.
      if (options.admit?.() === false) throw busyError(peer);
      return;
    }
    const serverNonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const tag = await greet(
      conn,
      peer,
      concat(ascii(Tag.serverAuth), serverNonce),
    );
    if (tag === Tag.clientRefuse) {
      throw new IpcHandshakeError(
        `The client at ${peer} has no authKey, and this listener requires one; ` +
          "the connection was closed and nothing it sent was delivered.",
        "authentication",
      );
    }
    expectTag(tag, Tag.clientProof, "client", peer);
    const body = await readExactly(
      conn,
      NONCE_BYTES + MAC_BYTES,
      "client",
      peer,
    );
    const clientNonce = body.slice(0, NONCE_BYTES);
    const clientMac = body.subarray(NONCE_BYTES);
    const expected = await hmac(key, Label.client, serverNonce, clientNonce);
    if (!timingSafeEqual(expected, clientMac)) {
      // Best effort: the client learns why, then the caller closes.
      await send(conn, "client", peer, ascii(Tag.serverReject)).catch(() => {});
      throw new IpcHandshakeError(
        `The client at ${peer} failed authentication: its proof does not match this listener's authKey. ` +
          "The connection was closed and nothing it sent was delivered. " +
          "If the client is yours, give it the same authKey.",
        "authentication",
      );
    }
    if (options.admit?.() === false) {
      await send(conn, "client", peer, ascii(Tag.serverBusy)).catch(() => {});
      throw busyError(peer);
    }
    const proof = await hmac(key, Label.server, serverNonce, clientNonce);
    await send(conn, "client", peer, concat(ascii(Tag.serverAccept), proof));
  });
}

/**
 * Sends the server's greeting and reads the client's first tag. A client
 * that closes before sending a byte (a liveness check, a port check) fails
 * with an error marked by `silentClose()`.
 */
async function greet(
  conn: Deno.Conn,
  peer: string,
  greeting: Uint8Array,
): Promise<string> {
  try {
    await send(conn, "client", peer, greeting);
  } catch (error) {
    throw silentClose(error as Error);
  }
  return await readTag(conn, "client", peer, true);
}

/**
 * Runs the client's side of the handshake. Resolves when the channel is
 * ready; on any failure throws, and the caller closes the connection.
 *
 * @throws {IpcHandshakeError} Saying what failed (`reason`).
 * @throws {IpcConnectionRefusedError} When the server is at its connection limit.
 */
export function clientHandshake(
  conn: Deno.Conn,
  options: HandshakeOptions,
): Promise<void> {
  const { key, peer } = options;
  return withTimeout(conn, options.timeoutMs, "server", peer, async () => {
    await tlsHandshake(conn, "server", peer);
    const tag = await readTag(conn, "server", peer);
    if (tag === Tag.serverBusy) throw serverBusyError(peer);
    if (tag === Tag.serverOpen) {
      if (key !== undefined) {
        await send(conn, "server", peer, ascii(Tag.clientRefuse)).catch(
          () => {},
        );
        throw new IpcHandshakeError(
          `The server at ${peer} does not authenticate (it was started without authKey), ` +
            "so it cannot prove that it knows this client's key; the connection was closed. " +
            "Give the server the same authKey, or leave authKey out on both sides.",
          "authentication",
        );
      }
      await send(conn, "server", peer, ascii(Tag.clientOpen));
      return;
    }
    expectTag(tag, Tag.serverAuth, "server", peer);
    const serverNonce = await readExactly(conn, NONCE_BYTES, "server", peer);
    if (key === undefined) {
      await send(conn, "server", peer, ascii(Tag.clientRefuse)).catch(() => {});
      throw new IpcHandshakeError(
        `The server at ${peer} requires authentication: pass its authKey to connectIpc().`,
        "authentication",
      );
    }
    const clientNonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const proof = await hmac(key, Label.client, serverNonce, clientNonce);
    await send(
      conn,
      "server",
      peer,
      concat(ascii(Tag.clientProof), clientNonce, proof),
    );
    const answer = await readTag(conn, "server", peer);
    if (answer === Tag.serverBusy) throw serverBusyError(peer);
    if (answer === Tag.serverReject) {
      throw new IpcHandshakeError(
        `The server at ${peer} rejected this client's authKey: the two keys differ. Use the server's authKey.`,
        "authentication",
      );
    }
    expectTag(answer, Tag.serverAccept, "server", peer);
    const serverMac = await readExactly(conn, MAC_BYTES, "server", peer);
    const expected = await hmac(key, Label.server, serverNonce, clientNonce);
    if (!timingSafeEqual(expected, serverMac)) {
      throw new IpcHandshakeError(
        `The server at ${peer} accepted this client but could not prove that it knows the authKey: ` +
          "it may be an impostor. The connection was closed.",
        "authentication",
      );
    }
  });
}

/** What a client is told when the server turns it away as busy. */
function serverBusyError(peer: string): IpcConnectionRefusedError {
  return new IpcConnectionRefusedError(
    `The server at ${peer} is at its connection limit (maxConnections) and turned this connection away; try again later.`,
    true,
  );
}

/** What a server reports when it turns a client away as busy. */
export function busyError(peer: string): IpcConnectionRefusedError {
  return new IpcConnectionRefusedError(
    `Turned away the client at ${peer}: every channel is taken (maxConnections).`,
    true,
  );
}

/**
 * Tells a client that the server is at its connection limit (the `busy` tag)
 * and closes the connection. Never throws.
 */
export async function refuseBusy(
  conn: Deno.Conn,
  timeoutMs: number,
  peer: string,
): Promise<void> {
  try {
    await withTimeout(conn, timeoutMs, "client", peer, async () => {
      await tlsHandshake(conn, "client", peer);
      await send(conn, "client", peer, ascii(Tag.serverBusy));
    });
  } catch {
    // The client went away or stalled: it is being turned away anyway.
  } finally {
    closeQuietly(conn);
  }
}
