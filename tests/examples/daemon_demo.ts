// What the daemon example tests share: the examples' paths, the permission
// flags the README gives the daemon and its clients, and a client run.

/** The path of `examples/<name>`. */
export function example(name: string): string {
  return new URL(`../../examples/${name}`, import.meta.url).pathname;
}

/** The README's flags for the daemon and its clients, rooted at `dir`. */
export function daemonFlags(dir: string): string[] {
  return [
    `--allow-read=${dir}`,
    `--allow-write=${dir}`,
    `--allow-net=unix:${dir}/daemon.sock`,
  ];
}

/** Runs `examples/daemon_client.ts` as `name` until it exits. */
export async function runDaemonClient(
  dir: string,
  name: string,
): Promise<{ code: number; output: string }> {
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...daemonFlags(dir),
      example("daemon_client.ts"),
      name,
      `dir=${dir}`,
      "interval=20",
    ],
    stdout: "piped",
  }).output();
  return { code, output: new TextDecoder().decode(stdout) };
}
