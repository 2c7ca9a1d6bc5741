/**
 * Turns a description of the permissions a Deno child may have into the
 * explicit `--allow-*` flags that grant exactly those.
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
