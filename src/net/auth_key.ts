/**
 * The shared key of authenticated channels: importing it, and the
 * HMAC-SHA256 proofs of the handshake.
 *
 * @module
 */

import { IpcInsecureSetupError } from "./errors.ts";
import { concat } from "./handshake_io.ts";

/**
 * The shortest `authKey` accepted, in bytes: shorter keys are guessable
 * offline. Use 32 random bytes.
 *
 * @example
 * ```ts
 * import { MIN_AUTH_KEY_BYTES } from "@tether/ipc";
 *
 * const authKey = crypto.getRandomValues(new Uint8Array(2 * MIN_AUTH_KEY_BYTES));
 * ```
 */
export const MIN_AUTH_KEY_BYTES = 16;

const CLIENT_LABEL = new TextEncoder().encode("tether-ipc/1 client");
const SERVER_LABEL = new TextEncoder().encode("tether-ipc/1 server");

/**
 * Checks and imports a shared secret as an HMAC-SHA256 key.
 *
 * @param authKey The secret; a string is taken as its UTF-8 bytes.
 * @throws {IpcInsecureSetupError} When it is shorter than 16 bytes.
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
    throw new IpcInsecureSetupError(
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
export async function hmac(
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
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}
