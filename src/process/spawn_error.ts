/**
 * {@linkcode spawnError}: why a command could not be started, as the
 * system says it (`ENOENT`, `EACCES`…), at the moment `spawnWithIpc()`
 * returns.
 *
 * @module
 */

import { messageOf } from "../internal/error_message.ts";
import { IpcSpawnError } from "./errors.ts";

/** Where to start the command, as `spawnWithIpc()` tried it. */
export interface SpawnAttempt {
  /** The command's path or name. */
  path: string;
  /** The child's whole environment (its `PATH` finds a bare name). */
  env: Record<string, string>;
  /** The working directory, if not the parent's. */
  cwd: string | undefined;
}

/**
 * The error for a command `node:child_process` could not start.
 *
 * `node:child_process` reports the system's error code only in an `error`
 * event a tick later, too late for `spawnWithIpc()` to throw it. So the
 * start is tried once more with `Deno.Command` (no arguments, no standard
 * streams), which throws at once with the code. Should that start succeed
 * (the command appeared meanwhile), the process is killed and the code is
 * `"UNKNOWN"`.
 *
 * @param attempt What was started.
 * @returns The error to throw, with its `code`.
 */
export function spawnError(attempt: SpawnAttempt): IpcSpawnError {
  const { path, env, cwd } = attempt;
  const quoted = JSON.stringify(path);
  try {
    const probe = new Deno.Command(path, {
      env,
      clearEnv: true,
      cwd,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    probe.kill("SIGKILL");
    probe.status.catch(() => {});
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const known = typeof code === "string" ? code : "UNKNOWN";
    return new IpcSpawnError(path, explain(quoted, known, cwd, error), known, {
      cause: error,
    });
  }
  return new IpcSpawnError(
    path,
    `Could not start ${quoted}, and trying again started it: check the command and cwd.`,
  );
}

function explain(
  quoted: string,
  code: string,
  cwd: string | undefined,
  error: unknown,
): string {
  const start = `Could not start ${quoted} (${code}): `;
  if (code === "ENOENT" && cwd !== undefined && /cwd/.test(messageOf(error))) {
    return start +
      `the working directory ${JSON.stringify(cwd)} does not exist. Check cwd.`;
  }
  if (code === "ENOENT") {
    return start +
      `no such file${
        quoted.includes("/") ? "" : " in any directory of PATH"
      }. Check the path, or give an absolute one.`;
  }
  if (code === "EACCES") {
    return start +
      `it is not an executable file (or it is a directory). ` +
      `Make it executable (chmod +x), or run it through its interpreter (e.g. Deno.execPath() with ["run", file]).`;
  }
  return start + `${messageOf(error)}. Check the command and cwd.`;
}
