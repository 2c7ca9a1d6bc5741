/**
 * Keeps `node:child_process` from widening a Deno child's permissions.
 *
 * Deno's `node:child_process`, asked to run the Deno executable by the exact
 * path `Deno.execPath()` returns, rewrites the arguments and adds `-A` when
 * they hold no `--allow-*`/`--deny-*` flag: `deno run child.ts` would run
 * with every permission. Naming the same file another way (`dir/./deno`)
 * runs the same executable with the arguments exactly as given. Verified on
 * Deno 2.9.6; `tests/permissions_test.ts` checks it with real children on
 * every test run, so a runtime that changes this is caught.
 *
 * @module
 */

/**
 * Returns a path to the same command that `node:child_process` passes
 * through unchanged.
 *
 * @param path The command to run.
 * @returns `path` itself, or, for the Deno executable, the same file spelled
 *   with a `./` segment before its name.
 */
export function commandWithoutImplicitPermissions(path: string): string {
  if (path !== Deno.execPath()) return path;
  const slash = path.lastIndexOf("/");
  return `${path.slice(0, slash + 1)}./${path.slice(slash + 1)}`;
}
