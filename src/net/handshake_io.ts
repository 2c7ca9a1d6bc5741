/**
 * Reading and writing the handshake's frames on a raw connection, each
 * failure turned into an error that names the peer and what went wrong.
 *
 * @module
 */

import { messageOf } from "../internal/error_message.ts";
import { IpcHandshakeError, IpcHandshakeTimeoutError } from "./errors.ts";

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
export type Role = "client" | "server";

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
    new IpcHandshakeTimeoutError(
      `The ${peerRole} at ${peer} did not complete the handshake within ${timeoutMs} ms; the connection was closed. ` +
        (peerRole === "client"
          ? "A stalled or hostile client, or a link too slow for the listener's handshakeTimeout."
          : "Is a tether-ipc listener there? A slow link may need a larger handshakeTimeout."),
      timeoutMs,
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

export async function tlsHandshake(
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
export function silentClose<E extends Error>(error: E): E {
  silentCloses.add(error);
  return error;
}

export async function readExactly(
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
        ),
      );
    }
    filled += count;
  }
  return bytes;
}

export async function readTag(
  conn: Deno.Conn,
  peerRole: Role,
  peer: string,
  first = false,
): Promise<string> {
  const bytes = await readExactly(conn, TAG_BYTES, peerRole, peer, first);
  return String.fromCharCode(...bytes);
}

export function expectTag(
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
