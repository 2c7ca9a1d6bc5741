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
 * @module
 */

import { hmac, Label, timingSafeEqual } from "./auth_key.ts";
import { IpcAuthenticationError, IpcConnectionRefusedError } from "./errors.ts";
import {
  ascii,
  closeQuietly,
  concat,
  expectTag,
  readExactly,
  readTag,
  send,
  silentClose,
  tlsHandshake,
  withTimeout,
} from "./handshake_io.ts";

/** Length of each side's random nonce. */
export const NONCE_BYTES = 32;
/** Length of an HMAC-SHA256 value. */
export const MAC_BYTES = 32;
/**
 * Default of the `handshakeTimeout` option, in milliseconds.
 *
 * @example Allow a slow link twice as long
 * ```ts
 * import { DEFAULT_HANDSHAKE_TIMEOUT_MS, type ConnectIpcOptions } from "@tether/ipc";
 *
 * const options: ConnectIpcOptions = {
 *   hostname: "daemon.example",
 *   port: 7000,
 *   tls: {},
 *   handshakeTimeout: 2 * DEFAULT_HANDSHAKE_TIMEOUT_MS,
 * };
 * ```
 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;

/** The tags of the handshake, protocol version 1. */
export const Tag = {
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
 * @throws {IpcHandshakeError} Or one of its subclasses, saying what failed.
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
        throw new IpcAuthenticationError(
          `The client at ${peer} requires authentication (it was given an authKey) but this listener has none; ` +
            "the connection was closed. Give the listener the same authKey.",
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
      throw new IpcAuthenticationError(
        `The client at ${peer} has no authKey, and this listener requires one; ` +
          "the connection was closed and nothing it sent was delivered.",
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
      throw new IpcAuthenticationError(
        `The client at ${peer} failed authentication: its proof does not match this listener's authKey. ` +
          "The connection was closed and nothing it sent was delivered. " +
          "If the client is yours, give it the same authKey.",
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
 * @throws {IpcHandshakeError} Or one of its subclasses, saying what failed.
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
        throw new IpcAuthenticationError(
          `The server at ${peer} does not authenticate (it was started without authKey), ` +
            "so it cannot prove that it knows this client's key; the connection was closed. " +
            "Give the server the same authKey, or leave authKey out on both sides.",
        );
      }
      await send(conn, "server", peer, ascii(Tag.clientOpen));
      return;
    }
    expectTag(tag, Tag.serverAuth, "server", peer);
    const serverNonce = await readExactly(conn, NONCE_BYTES, "server", peer);
    if (key === undefined) {
      await send(conn, "server", peer, ascii(Tag.clientRefuse)).catch(() => {});
      throw new IpcAuthenticationError(
        `The server at ${peer} requires authentication: pass its authKey to connectIpc().`,
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
      throw new IpcAuthenticationError(
        `The server at ${peer} rejected this client's authKey: the two keys differ. Use the server's authKey.`,
      );
    }
    expectTag(answer, Tag.serverAccept, "server", peer);
    const serverMac = await readExactly(conn, MAC_BYTES, "server", peer);
    const expected = await hmac(key, Label.server, serverNonce, clientNonce);
    if (!timingSafeEqual(expected, serverMac)) {
      throw new IpcAuthenticationError(
        `The server at ${peer} accepted this client but could not prove that it knows the authKey: ` +
          "it may be an impostor. The connection was closed.",
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
