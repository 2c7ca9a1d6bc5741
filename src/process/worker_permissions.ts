/**
 * A worker's own permissions: {@linkcode workerPermissions} turns
 * {@linkcode IpcPermissions} into Deno's `Worker` `deno.permissions`, after
 * making sure the process runs with `--unstable-worker-options`.
 *
 * @module
 */

import { IpcUnstableFlagError } from "./errors.ts";
import { type IpcPermissions, permissionFlags } from "./permission_flags.ts";

/** The flag Deno needs for `Worker` `deno.permissions`. */
export const UNSTABLE_WORKER_OPTIONS = "--unstable-worker-options";

/** What Deno's `Worker` takes as `deno.permissions`. */
export type WorkerPermissionsObject = Record<
  string,
  boolean | readonly string[]
>;

/**
 * Whether this process runs with `--unstable-worker-options`, read from
 * `/proc/self/cmdline`: `undefined` when it cannot be read (Deno lets only
 * `--allow-all` read it; other systems have no `/proc`).
 */
export function unstableWorkerOptionsFlag(): boolean | undefined {
  let commandLine: string;
  try {
    commandLine = Deno.readTextFileSync("/proc/self/cmdline");
  } catch {
    return undefined;
  }
  // Deno's own flags come before the script; a flag after it is the script's.
  for (const argument of commandLine.split("\0")) {
    if (argument === UNSTABLE_WORKER_OPTIONS) return true;
    if (/\.(?:[cm]?[jt]sx?)$/.test(argument) || argument.includes("://")) {
      break;
    }
  }
  return false;
}

/**
 * The `deno.permissions` of a worker that may do what `permissions` grants
 * and nothing more.
 *
 * @param permissions The worker's permissions.
 * @param flagDeclared `true` when the caller says the flag is there.
 * @throws {IpcUnstableFlagError} When the process runs without
 *   `--unstable-worker-options`, or it cannot be told and `flagDeclared` is
 *   not `true`.
 * @throws {TypeError} For an unknown permission or a bad list entry.
 */
export function workerPermissions(
  permissions: IpcPermissions,
  flagDeclared: boolean | undefined,
): WorkerPermissionsObject {
  permissionFlags(permissions); // The same checks as for a child process.
  const flag = flagDeclared === true ? true : unstableWorkerOptionsFlag();
  if (flag !== true) {
    const why = flag === false
      ? "this process runs without it"
      : "this process cannot tell whether it runs with it (reading /proc/self/cmdline needs --allow-all)";
    throw new IpcUnstableFlagError(
      UNSTABLE_WORKER_OPTIONS,
      `A worker's own permissions need Deno's ${UNSTABLE_WORKER_OPTIONS} flag, and ${why}. ` +
        `Run the parent with ${UNSTABLE_WORKER_OPTIONS} (and pass unstableWorkerOptions: true when it ` +
        `does not run with --allow-all), or leave out permissions: the worker then inherits ` +
        `every permission of this process.`,
    );
  }
  const granted: WorkerPermissionsObject = {
    read: false,
    write: false,
    net: false,
    env: false,
    run: false,
    ffi: false,
    sys: false,
    import: false,
  };
  for (const [name, value] of Object.entries(permissions)) {
    if (value === undefined) continue;
    granted[name] = Array.isArray(value) && value.length === 0 ? false : value;
  }
  return granted;
}
