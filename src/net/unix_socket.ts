/**
 * Listening on a Unix socket path safely: the socket lives in a directory
 * only its owner can enter, the socket file itself is owner-only, a stale
 * socket file left by a dead server is replaced, and a live server's socket
 * is never taken over.
 *
 * @module
 */

import { dirname } from "node:path";
import { IpcAddressInUseError, IpcInsecureSetupError } from "./errors.ts";

/** Mode of a directory this module creates for a socket: owner only. */
export const SOCKET_DIRECTORY_MODE = 0o700;
/** Mode given to the socket file: read and write (connect) for the owner. */
export const SOCKET_FILE_MODE = 0o600;
/**
 * Longest socket path, in bytes: `sun_path` holds 108 bytes on Linux, the
 * last of them a NUL (104 on macOS, so keep paths shorter to be portable).
 */
export const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Listens on the Unix socket `path`.
 *
 * Creates the socket's directory with mode 0700 when it is missing, and
 * refuses a directory that other users can enter or that belongs to another
 * user. When the path is taken by a socket nobody answers on (its server
 * died without removing it), it is replaced; when a server answers, nothing
 * is touched.
 *
 * @throws {IpcInsecureSetupError} When the directory is open to others.
 * @throws {IpcAddressInUseError} When a live server owns the path, or the
 *   path is something other than a socket.
 */
export async function listenUnixSocket(
  path: string,
): Promise<Deno.UnixListener> {
  checkPathLength(path);
  const directory = dirname(path);
  const owner = prepareDirectory(directory);
  const listener = await bindReplacingStale(path);
  try {
    // The directory already keeps others out; this guards the socket when
    // the directory is later opened up.
    Deno.chmodSync(path, SOCKET_FILE_MODE);
    const socketOwner = Deno.statSync(path).uid;
    if (owner !== null && socketOwner !== null && socketOwner !== owner) {
      throw new IpcInsecureSetupError(
        `The directory ${directory} belongs to user ${owner}, not to this process (user ${socketOwner}): ` +
          "its owner could replace the socket. Put the socket in a directory of your own.",
      );
    }
  } catch (error) {
    listener.close();
    throw error;
  }
  return listener;
}

/**
 * Makes sure `directory` exists and only its owner can enter it.
 *
 * @returns The directory owner's user id (`null` where the platform has none).
 */
function prepareDirectory(directory: string): number | null {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(directory);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    Deno.mkdirSync(directory, { recursive: true, mode: SOCKET_DIRECTORY_MODE });
    info = Deno.statSync(directory);
  }
  if (!info.isDirectory) {
    throw new IpcInsecureSetupError(
      `${directory} is not a directory, so no socket can be created in it; choose another path.`,
    );
  }
  const mode = info.mode === null ? null : info.mode & 0o777;
  if (mode !== null && (mode & 0o077) !== 0) {
    throw new IpcInsecureSetupError(
      `The socket's directory ${directory} can be entered by other users (mode ${
        octal(mode)
      }), ` +
        "so they could connect to the socket or replace it. Put the socket in a directory only you can enter: " +
        `a missing directory is created with mode 0700, or run \`chmod 700 ${directory}\` if it is yours alone.`,
    );
  }
  return info.uid;
}

async function bindReplacingStale(path: string): Promise<Deno.UnixListener> {
  try {
    return Deno.listen({ transport: "unix", path });
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
  }
  const info = lstatOrNull(path);
  if (info !== null && !info.isSocket) {
    throw new IpcAddressInUseError(
      `${path} exists and is not a socket; it was left alone. Remove it or choose another path.`,
    );
  }
  if (info !== null) {
    if (await somethingAnswers(path)) {
      throw new IpcAddressInUseError(
        `A server is already listening on ${path}; it was left alone. Stop it first, or choose another path.`,
      );
    }
    // Stale: its server died without removing it.
    try {
      Deno.removeSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  try {
    return Deno.listen({ transport: "unix", path });
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    throw new IpcAddressInUseError(
      `Another server took ${path} while this one was replacing its stale socket file; it was left alone.`,
      { cause: error },
    );
  }
}

/** `true` when a process accepts connections on the socket at `path`. */
async function somethingAnswers(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch (error) {
    if (
      error instanceof Deno.errors.ConnectionRefused ||
      error instanceof Deno.errors.NotFound
    ) {
      return false;
    }
    throw error;
  }
}

function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

function checkPathLength(path: string): void {
  if (typeof path !== "string" || path === "") {
    throw new TypeError("The Unix socket path must be a non-empty string.");
  }
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new RangeError(
      `The Unix socket path ${path} is ${bytes} bytes long; sockets allow at most ${MAX_SOCKET_PATH_BYTES}. ` +
        "Choose a shorter path, e.g. under $XDG_RUNTIME_DIR.",
    );
  }
}

function octal(mode: number): string {
  return "0" + mode.toString(8).padStart(3, "0");
}
