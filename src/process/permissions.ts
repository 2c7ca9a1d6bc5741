/**
 * What a Deno child or worker may do: {@linkcode IpcPermissions} turned into
 * the `--allow-*` flags of a child process (`permissionFlags()`), or into a
 * `Worker`'s `deno.permissions` (`workerPermissions()`, which needs
 * `--unstable-worker-options`).
 *
 * @module
 */

/**
 * The permissions of a Deno child: `true` grants one entirely, a list grants
 * it for those paths, hosts, variables or commands only; left out, `false`
 * or an empty list grants nothing.
 *
 * `{ read: ["/tmp"], net: true }` becomes `--allow-read=/tmp --allow-net`.
 *
 * @example Children that may read /tmp and use the network, nothing else
 * ```ts ignore
 * import { IpcPool, type IpcPermissions } from "@tether/ipc";
 *
 * const permissions: IpcPermissions = { read: ["/tmp"], net: true };
 * await using pool = new IpcPool({ module: "./worker.ts", size: 2, permissions });
 * ```
 */
export interface IpcPermissions {
  /** `--allow-read`: file system paths the child may read. */
  read?: boolean | readonly string[];
  /** `--allow-write`: file system paths the child may write. */
  write?: boolean | readonly string[];
  /** `--allow-net`: hosts (with optional ports) the child may reach or listen on. */
  net?: boolean | readonly string[];
  /** `--allow-env`: environment variables the child may read and set. */
  env?: boolean | readonly string[];
  /** `--allow-run`: programs the child may run. */
  run?: boolean | readonly string[];
  /** `--allow-ffi`: native libraries the child may load. */
  ffi?: boolean | readonly string[];
  /** `--allow-sys`: system information the child may query (e.g. `"hostname"`). */
  sys?: boolean | readonly string[];
  /** `--allow-import`: hosts the child may import remote modules from. */
  import?: boolean | readonly string[];
}

const NAMES = [
  "read",
  "write",
  "net",
  "env",
  "run",
  "ffi",
  "sys",
  "import",
] as const;

/**
 * The `deno run` flags granting `permissions` and nothing more.
 *
 * @throws {TypeError} For an unknown permission name, or a list entry that
 *   is empty or holds a comma (Deno's flag syntax cannot carry it).
 */
export function permissionFlags(permissions: IpcPermissions = {}): string[] {
  const known = new Set<string>(NAMES);
  for (const name of Object.keys(permissions)) {
    if (!known.has(name)) {
      throw new TypeError(
        `Unknown permission "${name}": use ${NAMES.join(", ")}.`,
      );
    }
  }
  const flags: string[] = [];
  for (const name of NAMES) {
    const value = permissions[name];
    if (value === undefined || value === false) continue;
    if (value === true) {
      flags.push(`--allow-${name}`);
      continue;
    }
    if (!Array.isArray(value)) {
      throw new TypeError(
        `Permission "${name}" must be true, false or a list of strings, got ${typeof value}.`,
      );
    }
    if (value.length === 0) continue;
    for (const entry of value) {
      if (typeof entry !== "string" || entry === "" || entry.includes(",")) {
        throw new TypeError(
          `Permission "${name}" holds ${
            JSON.stringify(entry)
          }: each entry must be a non-empty string without a comma.`,
        );
      }
    }
    flags.push(`--allow-${name}=${value.join(",")}`);
  }
  return flags;
}

/** The flag Deno needs for `Worker` `deno.permissions`. */
const UNSTABLE_WORKER_OPTIONS = "--unstable-worker-options";

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
function unstableWorkerOptionsFlag(): boolean | undefined {
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
 * @throws {TypeError} When the process runs without
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
    throw new TypeError(
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
