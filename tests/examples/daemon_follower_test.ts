// examples/daemon_follower.ts follows examples/daemon.ts across a restart:
// it prints a client's updates, notices the daemon going away, reconnects
// when a new daemon starts, and prints the next client's updates.
import assert from "node:assert/strict";
import { within } from "../helpers.ts";
import { tempSocket } from "../net_helpers.ts";
import { daemonFlags, example, runDaemonClient } from "./daemon_demo.ts";

/** The lines a process prints, read as they come. */
class Lines {
  #reader: ReadableStreamDefaultReader<string>;
  #partial = "";
  #pending: string[] = [];
  readonly seen: string[] = [];

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Reads up to the first line for which `predicate` holds. */
  async until(predicate: (line: string) => boolean, what: string) {
    for (;;) {
      const line = await this.#next(what);
      if (line === undefined) {
        throw new Error(`ended before ${what}:\n${this.seen.join("\n")}`);
      }
      if (predicate(line)) return line;
    }
  }

  /** Reads to the end; returns what came. */
  async rest(): Promise<string> {
    let text = "";
    for (let line; (line = await this.#next("the end")) !== undefined;) {
      text += `${line}\n`;
    }
    return text + this.#partial;
  }

  async #next(what: string): Promise<string | undefined> {
    while (this.#pending.length === 0) {
      const { value, done } = await within(this.#reader.read(), what);
      if (done) return undefined;
      const parts = (this.#partial + value).split("\n");
      this.#partial = parts.pop()!;
      this.#pending.push(...parts);
    }
    const line = this.#pending.shift()!;
    this.seen.push(line);
    return line;
  }
}

Deno.test("examples/daemon_follower.ts follows examples/daemon.ts across a restart", async () => {
  using temp = tempSocket();
  const dir = `${temp.dir}/demo`;
  const flags = daemonFlags(dir);
  const startDaemon = async () => {
    const process = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...flags, example("daemon.ts"), `dir=${dir}`],
      stdout: "piped",
    }).spawn();
    const lines = new Lines(process.stdout);
    await lines.until((line) => /listening on/.test(line), "the daemon");
    return { process, lines };
  };
  const runClient = async (name: string) => {
    const { code, output } = await runDaemonClient(dir, name);
    assert.equal(code, 0, output);
  };

  let daemon = await startDaemon();
  const follower = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...flags,
      example("daemon_follower.ts"),
      "watcher",
      `dir=${dir}`,
      "updates=10",
    ],
    stdout: "piped",
  }).spawn();
  const watched = new Lines(follower.stdout);
  await watched.until((line) => /watcher: following/.test(line), "following");

  await runClient("alice");
  await watched.until((line) => /\(\+5 by alice\)/.test(line), "alice's 5");

  daemon.process.kill("SIGTERM");
  assert.equal((await daemon.process.status).code, 0);
  await daemon.lines.rest();
  await watched.until((line) => /lost the daemon/.test(line), "the loss");

  daemon = await startDaemon();
  await watched.until((line) => /reconnected after/.test(line), "reconnect");
  await runClient("bob");
  await watched.until((line) => /\(\+5 by bob\)/.test(line), "bob's 5");
  const rest = await watched.rest();
  assert.equal((await follower.status).code, 0);
  assert.match(rest, /watcher: done\n$/);
  // The new daemon's total started again from 0: bob's updates came from it.
  assert.ok(
    watched.seen.includes("watcher: total 1 (+1 by bob)"),
    watched.seen.join("\n"),
  );

  daemon.process.kill("SIGTERM");
  await daemon.process.status;
  await daemon.lines.rest();
});
