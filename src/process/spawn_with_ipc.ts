/**
 * The parent's side: {@linkcode spawnWithIpc} starts a child with a private
 * socketpair on its fd 3.
 *
 * `Deno.Command` cannot give a child a descriptor above 2, so the child is
 * started with `node:child_process`, whose fourth stdio entry `"pipe"` is a
 * Unix socketpair. Here too: the parent's end of the channel, which names
 * the exit code or signal of a crash; ending the channel after the exit when
 * a grandchild holds fd 3; keeping a Deno child from getting `-A`; and why a
 * command could not start.
 *
 * @module
 */

import {
  type ChildProcess,
  spawn,
  type StdioOptions,
} from "node:child_process";
import { constants as osConstants } from "node:os";
import { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import type net from "node:net";
import { endsProcess, FATAL_EVENTS } from "../channel/send_queue.ts";
import { IpcJsonStream } from "../channel/ipc_json_stream.ts";
import type { IpcJsonStreamOptions } from "../channel/options.ts";
import { choiceOption } from "../internal/check_option.ts";
import { settlesWithin } from "../internal/deadline.ts";
import { messageOf } from "../internal/error_message.ts";
import { NodeSocketTransport } from "../transports/node_socket.ts";
import type {
  IpcTransport,
  IpcTransportSink,
} from "../transports/transport.ts";
import { CHANNEL_FD, CHANNEL_FD_ENV } from "./connect_parent_ipc.ts";
import { childEndedError, IpcSpawnError } from "../errors.ts";
import { sendCancel } from "./graceful_cancel.ts";
import {
  type IpcChildStatus,
  killTimeoutOption,
  stopChild,
} from "./stop_child.ts";

/** Environment variables that would make a child believe it has another channel. */
const INHERITED_CHANNEL_VARIABLES = [
  CHANNEL_FD_ENV,
  "NODE_CHANNEL_FD",
  "NODE_CHANNEL_SERIALIZATION_MODE",
];

/** How a standard stream of the child is set up. */
export type IpcStdio = "piped" | "inherit" | "null";

/** Options of {@linkcode spawnWithIpc}. */
export interface SpawnWithIpcOptions<In = unknown>
  extends IpcJsonStreamOptions<In> {
  /** Arguments of the command. For a Deno child, its permission flags go here: it gets exactly these. */
  args?: string[];
  /** Working directory of the child. @default {the parent's} */
  cwd?: string | URL;
  /** Environment variables to set, added to the parent's unless `clearEnv`. */
  env?: Record<string, string>;
  /** Start the child with only `env` (and `IPC_CHANNEL_FD`). @default {false} */
  clearEnv?: boolean;
  /** The child's standard input. @default {"inherit"} */
  stdin?: "piped" | "inherit" | "null";
  /** The child's standard output. @default {"inherit"} */
  stdout?: "piped" | "inherit" | "null";
  /** The child's standard error. @default {"inherit"} */
  stderr?: "piped" | "inherit" | "null";
  /**
   * Aborting it stops the child: with `SIGTERM` at once, then `SIGKILL`
   * after `killTimeout`; with `gracefulCancel`, by asking it first.
   */
  signal?: AbortSignal;
  /**
   * When `signal` aborts, first send the child a cancel notification
   * carrying the abort reason (the child sees it through
   * `getCancelSignal()`); if it has not exited after `killTimeout` it gets
   * `SIGTERM`, then `SIGKILL` after `killTimeout` again.
   *
   * @default {false}
   */
  gracefulCancel?: boolean;
  /**
   * How long, in milliseconds, a child has at each step of being stopped (by
   * `signal`, or by `await using`) before the next, harder one: the cancel
   * notification, `SIGTERM`, `SIGKILL`.
   *
   * @default {5000}
   */
  killTimeout?: number;
  /** User id to run the child as (needs privileges). */
  uid?: number;
  /** Group id to run the child as (needs privileges). */
  gid?: number;
}

/**
 * A child process started by {@linkcode spawnWithIpc}, with its channel.
 *
 * @typeParam In The type of the messages from the child.
 * @typeParam Out The type of the messages to the child.
 */
export interface IpcChildProcess<In = unknown, Out = unknown>
  extends AsyncDisposable {
  /** The child's process id. */
  readonly pid: number;
  /** The message channel to the child. */
  readonly ipc: IpcJsonStream<In, Out>;
  /** Resolves with how the child ended. */
  readonly status: Promise<IpcChildStatus>;
  /** The child's standard input. @throws {TypeError} Unless `stdin: "piped"`. */
  readonly stdin: WritableStream<Uint8Array>;
  /** The child's standard output. @throws {TypeError} Unless `stdout: "piped"`. */
  readonly stdout: ReadableStream<Uint8Array>;
  /** The child's standard error. @throws {TypeError} Unless `stderr: "piped"`. */
  readonly stderr: ReadableStream<Uint8Array>;
  /**
   * Sends a signal to the child, every time it is called (so `SIGKILL`
   * after an ignored `SIGTERM` works). With a plain `--allow-run` it goes
   * through `Deno.kill`, and `status` names the signal that really ended
   * the child; with `--allow-run` limited to some commands, through
   * `node:child_process`, and `status` names the last signal sent.
   *
   * @param signal The signal. @default {"SIGTERM"}
   * @returns `true` when it was sent, `false` when the child has already
   *   exited (a race that is not an error).
   */
  kill(signal?: Deno.Signal): boolean;
  /** Keeps the parent alive until the child exits (the default). */
  ref(): void;
  /** Lets the parent exit while the child runs. */
  unref(): void;
  /**
   * Stops the child if it still runs (`SIGTERM`, then `SIGKILL` after
   * `killTimeout`), waits for it, and closes the channel; for `await using`.
   * Never waits longer than twice `killTimeout` for the child.
   */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts `command` with a private message channel on its fd 3.
 *
 * The child calls `connectParentIpc()` (or, in any language, reads and
 * writes newline-delimited JSON on the descriptor named by the
 * `IPC_CHANNEL_FD` environment variable). The parent needs `--allow-run` and
 * `--allow-env`; a Deno child needs no permission for the channel and gets
 * exactly the permission flags in `args`, none by default.
 *
 * @typeParam In The type of the messages from the child.
 * @typeParam Out The type of the messages to the child.
 * @param command The program: a path, a `file:` URL, or a name looked up in `PATH`.
 * @param options Arguments, environment, standard streams and channel limits.
 * @returns The running child.
 * @throws {Deno.errors.NotCapable} When the parent lacks `--allow-run` or `--allow-env`.
 * @throws {IpcSpawnError} When the command cannot be started.
 *
 * @example Talk to a Deno child
 * ```ts ignore
 * import { spawnWithIpc } from "@tether/ipc";
 *
 * await using child = spawnWithIpc(Deno.execPath(), { args: ["run", "child.ts"] });
 * await child.ipc.send({ hello: "child" });
 * console.log(await child.ipc.receive());
 * ```
 */
export function spawnWithIpc<In = unknown, Out = unknown>(
  command: string | URL,
  options: SpawnWithIpcOptions<In> = {},
): IpcChildProcess<In, Out> {
  return new ChildWithIpc<In, Out>(command, options);
}

/** The children that run, for {@linkcode releaseOnFatalError}. */
const running = new Set<{ releaseForExit(): (() => void) | undefined }>();

/**
 * When this process dies of an uncaught error, Deno sends `SIGKILL` to every
 * child that keeps it alive (not after `Deno.exit()` or a signal), so a
 * child would never see its channel end, nor get what was sent to it. Let
 * them live instead: they see their channel end as after any other death of
 * the parent, and can exit on their own. Should the process go on after all
 * (a later listener handled the error), they keep it alive again.
 */
function releaseOnFatalError(event: Event): void {
  if (!endsProcess(event)) return;
  const undo: (() => void)[] = [];
  for (const child of running) {
    const hold = child.releaseForExit();
    if (hold !== undefined) undo.push(hold);
  }
  // Runs only if the process survives: a dying one runs no microtask.
  queueMicrotask(() => undo.forEach((hold) => hold()));
}

let releaseHooked = false;

class ChildWithIpc<In, Out> implements IpcChildProcess<In, Out> {
  readonly pid: number;
  readonly ipc: IpcJsonStream<In, Out>;
  readonly status: Promise<IpcChildStatus>;
  #child: ChildProcess;
  #transport: ChildTransport;
  #killTimeout: number;
  #exited = false;
  /** Whether the child keeps this process alive (`ref()`, the default). */
  #held = true;
  #stdin: WritableStream<Uint8Array> | undefined;
  #stdout: ReadableStream<Uint8Array> | undefined;
  #stderr: ReadableStream<Uint8Array> | undefined;

  constructor(command: string | URL, options: SpawnWithIpcOptions<In>) {
    const path = command instanceof URL ? fileURLToPath(command) : command;
    requirePermissions(path);
    this.#killTimeout = killTimeoutOption("spawnWithIpc", options.killTimeout);
    const env = childEnvironment(options);
    const cwd = options.cwd instanceof URL
      ? fileURLToPath(options.cwd)
      : options.cwd;
    const { child, transport } = NodeSocketTransport.spawnChild(() =>
      spawn(
        commandWithoutImplicitPermissions(path),
        options.args ?? [],
        {
          stdio: [
            stdioOf("stdin", options.stdin),
            stdioOf("stdout", options.stdout),
            stdioOf("stderr", options.stderr),
            "pipe",
          ] satisfies StdioOptions,
          env,
          cwd,
          uid: options.uid,
          gid: options.gid,
        },
      ), CHANNEL_FD);
    // A failed spawn is also reported as an "error" event a tick later.
    child.on("error", () => {});
    const channel = child.stdio[CHANNEL_FD] as net.Socket | null | undefined;
    if (child.pid === undefined || channel == null) {
      transport?.destroy();
      throw spawnError({ path, env, cwd });
    }
    this.pid = child.pid;
    this.#child = child;
    if (!releaseHooked) {
      releaseHooked = true;
      for (const type of FATAL_EVENTS) {
        globalThis.addEventListener(type, releaseOnFatalError);
      }
    }
    running.add(this);
    this.status = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.#exited = true;
        running.delete(this);
        resolve(statusOf(code, signal as Deno.Signal | null));
        endChannelAfterExit(this.#transport.socket);
      });
    });
    this.#transport = new ChildTransport(
      transport ?? NodeSocketTransport.adopt(channel),
      this.pid,
      this.status,
      options.stderr === "null",
    );
    this.ipc = new IpcJsonStream<In, Out>(this.#transport, options);
    const abortSignal = options.signal;
    if (abortSignal !== undefined) {
      const gracefulCancel = options.gracefulCancel === true;
      const onAbort = () => {
        if (this.#exited) return;
        stopChild(this, {
          killTimeout: this.#killTimeout,
          graceful: gracefulCancel
            ? () => sendCancel(this.ipc, abortSignal.reason)
            : undefined,
        });
      };
      if (abortSignal.aborted) onAbort();
      else {
        abortSignal.addEventListener("abort", onAbort, { once: true });
        this.status.then(() =>
          abortSignal.removeEventListener("abort", onAbort)
        );
      }
    }
  }

  get stdin(): WritableStream<Uint8Array> {
    const stdin = this.#child.stdin;
    if (stdin === null) throw notPiped("stdin");
    return this.#stdin ??= Writable.toWeb(stdin) as WritableStream<
      Uint8Array
    >;
  }

  get stdout(): ReadableStream<Uint8Array> {
    const stdout = this.#child.stdout;
    if (stdout === null) throw notPiped("stdout");
    return this.#stdout ??= Readable.toWeb(stdout) as ReadableStream<
      Uint8Array
    >;
  }

  get stderr(): ReadableStream<Uint8Array> {
    const stderr = this.#child.stderr;
    if (stderr === null) throw notPiped("stderr");
    return this.#stderr ??= Readable.toWeb(stderr) as ReadableStream<
      Uint8Array
    >;
  }

  kill(signal: Deno.Signal = "SIGTERM"): boolean {
    if (this.#exited) return false;
    // Node's kill() sends one signal only, then reports that one as the
    // cause of the exit; Deno.kill sends each, and the real cause is seen.
    if (Deno.permissions.querySync({ name: "run" }).state !== "granted") {
      // Deno.kill needs a plain --allow-run. Node's kill() is allowed, but
      // skips every signal after the first once `killed` is set: clear it.
      (this.#child as { killed: boolean }).killed = false;
      return this.#child.kill(signal as NodeJS.Signals);
    }
    try {
      Deno.kill(this.pid, signal);
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }

  ref(): void {
    this.#held = true;
    this.#child.ref();
  }

  unref(): void {
    this.#held = false;
    this.#child.unref();
  }

  /**
   * Keeps the runtime from killing the child when this process dies of an
   * uncaught error (an unref'd child is spared).
   *
   * @returns What undoes it, when there was something to undo.
   */
  releaseForExit(): (() => void) | undefined {
    if (!this.#held || this.#exited) return undefined;
    this.#child.unref();
    return () => {
      if (this.#held && !this.#exited) this.#child.ref();
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await stopChild(this, { killTimeout: this.#killTimeout });
    await this.ipc.close();
  }
}

/** Fails early, with what to do, instead of letting `node:child_process` fail or prompt. */
function requirePermissions(path: string): void {
  const missing: string[] = [];
  if (
    Deno.permissions.querySync({ name: "run", command: path }).state !==
      "granted"
  ) {
    missing.push(`--allow-run (to run ${JSON.stringify(path)})`);
  }
  if (Deno.permissions.querySync({ name: "env" }).state !== "granted") {
    missing.push(
      "--allow-env (node:child_process reads the environment to build the child's)",
    );
  }
  if (missing.length > 0) {
    throw new Deno.errors.NotCapable(
      `spawnWithIpc() needs ${
        missing.join(" and ")
      }. Run the parent with these flags.`,
    );
  }
}

const STDIO = { piped: "pipe", inherit: "inherit", null: "ignore" } as const;

function stdioOf(
  name: "stdin" | "stdout" | "stderr",
  stdio: IpcStdio | undefined,
): "pipe" | "inherit" | "ignore" {
  const choice = choiceOption("spawnWithIpc", name, stdio, [
    "piped",
    "inherit",
    "null",
  ], "inherit");
  return STDIO[choice];
}

function childEnvironment<In>(
  options: SpawnWithIpcOptions<In>,
): Record<string, string> {
  const env = options.clearEnv ? {} : Deno.env.toObject();
  for (const name of INHERITED_CHANNEL_VARIABLES) delete env[name];
  Object.assign(env, options.env);
  env[CHANNEL_FD_ENV] = String(CHANNEL_FD);
  if (options.nodeCompat) {
    env.NODE_CHANNEL_FD = String(CHANNEL_FD);
    env.NODE_CHANNEL_SERIALIZATION_MODE = options.serialization ?? "json";
  }
  return env;
}

function statusOf(
  code: number | null,
  signal: Deno.Signal | null,
): IpcChildStatus {
  if (signal !== null) {
    const signals: Partial<Record<string, number>> = osConstants.signals;
    const number = signals[signal] ?? 0;
    return { success: false, code: 128 + number, signal };
  }
  return { success: code === 0, code: code ?? 1, signal: null };
}

function notPiped(name: string): TypeError {
  return new TypeError(
    `The child's ${name} is not piped: pass { ${name}: "piped" } to spawnWithIpc() to use it.`,
  );
}

/**
 * When the channel ends before the child's exit is known, the end waits
 * this long for it. The exit is reported a few milliseconds after the end
 * of the channel; a child that closed its channel and runs on costs this
 * delay once.
 */
const EXIT_WAIT_MS = 1000;

/**
 * The socket transport of a child's channel. When the channel ends because
 * the child crashed or was killed (or exited leaving what it was sent
 * unread, which resets the connection), the channel is told so with an
 * `IpcChildExitedError` naming the exit code or signal, instead of
 * a bare "the peer closed it" or "read ECONNRESET".
 */
class ChildTransport implements IpcTransport {
  /** The socket underneath, for the exit drain. */
  readonly socket: NodeSocketTransport;
  readonly reusesReadBuffer: boolean;
  #pid: number;
  #status: Promise<IpcChildStatus>;
  #ended: IpcChildStatus | undefined;
  #stderrHidden: boolean;

  /**
   * @param socket The parent's end of the socketpair.
   * @param pid The child's process id.
   * @param status Resolves when the child exits.
   * @param stderrHidden Whether the child's stderr is discarded.
   */
  constructor(
    socket: NodeSocketTransport,
    pid: number,
    status: Promise<IpcChildStatus>,
    stderrHidden: boolean,
  ) {
    this.#stderrHidden = stderrHidden;
    this.socket = socket;
    this.reusesReadBuffer = socket.reusesReadBuffer;
    this.#pid = pid;
    this.#status = status;
    status.then((ended) => this.#ended = ended);
  }

  start(sink: IpcTransportSink): void {
    this.socket.start({
      data: (bytes) => sink.data(bytes),
      end: () => this.#afterExit(sink, undefined),
      error: (error) => this.#afterExit(sink, error),
    });
  }

  resume(): void {
    this.socket.resume();
  }

  write(data: string | Uint8Array, done: (error?: Error) => void): void {
    this.socket.write(data, done);
  }

  writeAtExit(data: readonly (string | Uint8Array)[]): number | undefined {
    return this.socket.writeAtExit(data);
  }

  close(): Promise<void> {
    return this.socket.close();
  }

  destroy(): void {
    this.socket.destroy();
  }

  ref(): void {
    this.socket.ref();
  }

  unref(): void {
    this.socket.unref();
  }

  /** Ends the channel once the child's exit is known (or after a short wait). */
  #afterExit(sink: IpcTransportSink, error: Error | undefined): void {
    const report = () => {
      const ended = this.#ended;
      if (ended !== undefined && (!ended.success || error !== undefined)) {
        sink.end(
          childEndedError(this.#pid, ended, {
            cause: error,
            stderrHidden: this.#stderrHidden,
          }),
        );
      } else if (error !== undefined) {
        sink.error(error);
      } else {
        sink.end();
      }
    };
    if (this.#ended !== undefined) report();
    else settlesWithin(this.#status, EXIT_WAIT_MS).then(report);
  }
}

/**
 * After the child exits, the channel is read until this long passes with
 * nothing arriving; then it ends. This only matters when a grandchild holds
 * the child's end open: otherwise the channel reaches end-of-file at once.
 * Data the child wrote before exiting is already in the socket buffer, so a
 * quiet period of a few event-loop turns is enough; ticks that fire late
 * (a blocked event loop) do not count as quiet.
 */
const EXIT_DRAIN_TICK_MS = 25;
const EXIT_DRAIN_QUIET_TICKS = 4;

/**
 * Ends the channel once the exited child's data is read. Usually the socket
 * reaches end-of-file by itself; when a grandchild inherited fd 3 it never
 * does, so the channel ends after a quiet period (see EXIT_DRAIN_TICK_MS).
 */
function endChannelAfterExit(transport: NodeSocketTransport): void {
  if (transport.ended) return;
  let chunksSeen = transport.chunksRead;
  let quietTicks = 0;
  let due = performance.now() + EXIT_DRAIN_TICK_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - due > EXIT_DRAIN_TICK_MS;
    due = now + EXIT_DRAIN_TICK_MS;
    if (transport.ended) {
      clearInterval(timer);
    } else if (
      late || transport.paused || transport.chunksRead !== chunksSeen
    ) {
      chunksSeen = transport.chunksRead;
      quietTicks = 0;
    } else if (++quietTicks >= EXIT_DRAIN_QUIET_TICKS) {
      clearInterval(timer);
      transport.finish();
    }
  }, EXIT_DRAIN_TICK_MS);
  // Waiting for a message keeps the process alive; this timer alone should not.
  Deno.unrefTimer(timer);
}

// Keeps `node:child_process` from widening a Deno child's permissions.
//
// Deno's `node:child_process`, asked to run the Deno executable by the exact
// path `Deno.execPath()` returns, rewrites the arguments and adds `-A` when
// they hold no `--allow-*`/`--deny-*` flag: `deno run child.ts` would run
// with every permission. Naming the same file another way (`dir/./deno`)
// runs the same executable with the arguments exactly as given. Verified on
// Deno 2.9.6; `tests/process/permissions_test.ts` checks it with real children on
// every test run, so a runtime that changes this is caught.
/**
 * Returns a path to the same command that `node:child_process` passes
 * through unchanged.
 *
 * @param path The command to run.
 * @returns `path` itself, or, for the Deno executable, the same file spelled
 *   with a `./` segment before its name.
 */
function commandWithoutImplicitPermissions(path: string): string {
  if (path !== Deno.execPath()) return path;
  const slash = path.lastIndexOf("/");
  return `${path.slice(0, slash + 1)}./${path.slice(slash + 1)}`;
}

/** Where to start the command, as `spawnWithIpc()` tried it. */
interface SpawnAttempt {
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
function spawnError(attempt: SpawnAttempt): IpcSpawnError {
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
