/**
 * The errors of child processes and their channel:
 *
 * ```text
 * IpcError
 * ├── IpcSpawnError             the command could not be started (ENOENT, EACCES…)
 * ├── IpcChannelNotFoundError   connectParentIpc() found no channel on fd 3
 * ├── IpcChildEndedError        a spawnWithIpc() child crashed or was killed: why its channel closed
 * ├── IpcChildExitedError       a pool's child exited before answering a call
 * ├── IpcWorkerExitedError      a worker threw, exited, closed itself or was terminated
 * └── IpcUnstableFlagError      worker permissions without --unstable-worker-options
 * ```
 *
 * @module
 */

import { IpcError } from "../channel/errors.ts";

/**
 * `connectParentIpc()` found no channel: this process was not started by
 * `spawnWithIpc()` (or another parent that puts a socket on fd 3).
 *
 * @example Run with or without a parent
 * ```ts
 * import { connectParentIpc, IpcChannelNotFoundError } from "@tether/ipc";
 *
 * try {
 *   const parent = connectParentIpc();
 *   await parent.send("hello");
 * } catch (error) {
 *   if (!(error instanceof IpcChannelNotFoundError)) throw error;
 *   console.log("started on its own: no parent to talk to");
 * }
 * ```
 */
export class IpcChannelNotFoundError extends IpcError {}

/**
 * The child running a call of an {@linkcode IpcPool} exited (crashed, was
 * killed, or closed its channel) before answering. The pool started a
 * replacement; the call was not retried, since running it twice may not be
 * safe.
 *
 * @example Retry a call that is safe to run twice
 * ```ts ignore
 * import { IpcChildExitedError, IpcPool } from "@tether/ipc";
 *
 * await using pool = new IpcPool({ module: "./worker.ts", size: 2 });
 * let answer;
 * for (let attempt = 1; ; attempt++) {
 *   try {
 *     answer = await pool.request("hash", { text: "abc" });
 *     break;
 *   } catch (error) {
 *     if (!(error instanceof IpcChildExitedError) || attempt === 3) throw error;
 *     console.warn(`child ${error.pid} exited with code ${error.code}; retrying`);
 *   }
 * }
 * ```
 */
export class IpcChildExitedError extends IpcError {
  /** The method that was called. */
  readonly method: string;
  /** The child's process id. */
  readonly pid: number;
  /** Its exit code: 128 + the signal number when a signal ended it. */
  readonly code: number;
  /** The signal that ended it, or `null`. */
  readonly signal: Deno.Signal | null;
  /**
   * Why the pool knows it ended, when it does: e.g. it ran out of memory
   * (`maxMemoryMiB`), or was killed because a call timed out
   * (`killOnTimeout`).
   */
  readonly reason: string | undefined;

  /**
   * Creates the error.
   *
   * @param method The method called.
   * @param pid The child's process id.
   * @param status How the child ended.
   * @param options The underlying `cause`, if any, and the `reason` it ended, if known.
   */
  constructor(
    method: string,
    pid: number,
    status: { code: number; signal: Deno.Signal | null },
    options?: ErrorOptions & { reason?: string },
  ) {
    const reason = options?.reason;
    super(
      `Child process ${pid} ${
        howItEnded(status)
      } before answering the call "${method}"${
        reason === undefined ? "" : `: ${reason}`
      }. ` +
        (stderrHidden(options?.cause)
          ? `Its stderr is discarded (stderr: "null"): pass stderr: "inherit" to see why. `
          : "") +
        `The pool replaced it; the call was not retried: retry it if it is safe to run twice.`,
      options,
    );
    this.method = method;
    this.pid = pid;
    this.code = status.code;
    this.signal = status.signal;
    this.reason = reason;
  }
}

/**
 * A child of `spawnWithIpc()` ended abnormally (a non-zero exit code or a
 * signal, or an exit that left what it was sent unread), and its channel
 * with it. It is the `cause` of the
 * `IpcClosedError` that calls waiting for the child's answer reject with,
 * whose message says the same: one message for the one event.
 *
 * @example Tell a crash from a clean close
 * ```ts ignore
 * import { IpcChildEndedError, IpcClosedError, spawnWithIpc } from "@tether/ipc";
 *
 * await using child = spawnWithIpc(Deno.execPath(), { args: ["run", "worker.ts"] });
 * try {
 *   await child.ipc.request("work");
 * } catch (error) {
 *   if (error instanceof IpcClosedError && error.cause instanceof IpcChildEndedError) {
 *     console.error(`worker died: code ${error.cause.code}, signal ${error.cause.signal}`);
 *   }
 * }
 * ```
 */
export class IpcChildEndedError extends IpcError {
  /** The child's process id. */
  readonly pid: number;
  /** Its exit code: 128 + the signal number when a signal ended it. */
  readonly code: number;
  /** The signal that ended it, or `null`. */
  readonly signal: Deno.Signal | null;
  /** `true` when the child's stderr was discarded (`stderr: "null"`), so what it printed is lost. */
  readonly stderrHidden: boolean;

  /**
   * Creates the error.
   *
   * @param pid The child's process id.
   * @param status How the child ended.
   * @param options The underlying `cause` (a reset connection), if any, and
   *   whether the child's stderr was discarded.
   */
  constructor(
    pid: number,
    status: { code: number; signal: Deno.Signal | null },
    options?: ErrorOptions & { stderrHidden?: boolean },
  ) {
    const crashed = status.signal === null && status.code !== 0;
    const hidden = options?.stderrHidden === true;
    super(
      `child process ${pid} ${howItEnded(status)}` +
        (!crashed
          ? ""
          : hidden
          ? `; its stderr is discarded (stderr: "null"): pass stderr: "inherit" to see why`
          : "; its stderr may say why"),
      options,
    );
    this.stderrHidden = hidden;
    this.pid = pid;
    this.code = status.code;
    this.signal = status.signal;
  }
}

/**
 * The command of {@linkcode spawnWithIpc} could not be started: it does not
 * exist (`ENOENT`), is not an executable file (`EACCES`), or the working
 * directory does not exist (`ENOENT`, said in the message).
 *
 * @example Tell a missing program from one that cannot be run
 * ```ts
 * import { IpcSpawnError, spawnWithIpc } from "@tether/ipc";
 *
 * try {
 *   spawnWithIpc("/no/such/program");
 * } catch (error) {
 *   if (error instanceof IpcSpawnError) console.log(error.command, error.code); // "/no/such/program" "ENOENT"
 * }
 * ```
 */
export class IpcSpawnError extends IpcError {
  /** The command that could not be started. */
  readonly command: string;
  /**
   * The system's error code: `"ENOENT"` (no such command or working
   * directory), `"EACCES"` (not executable, or a directory), `"ENOTDIR"`…,
   * or `"UNKNOWN"`.
   */
  readonly code: string;

  /**
   * Creates the error.
   *
   * @param command The command.
   * @param message The explanation.
   * @param code The system's error code. @default {"UNKNOWN"}
   * @param options The underlying `cause`, if any.
   */
  constructor(
    command: string,
    message: string,
    code = "UNKNOWN",
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.command = command;
    this.code = code;
  }
}

/**
 * A worker started by {@linkcode spawnWorkerWithIpc} ended while its channel
 * was open: it threw an uncaught error (at top level or later), called
 * `Deno.exit()` (`code` says with which code) or `self.close()`, sent a
 * message that could not be cloned back, or the parent called `terminate()`.
 * The channel is closed with this error as its cause, so calls in flight
 * reject with an `IpcClosedError` naming it.
 *
 * @example Tell a crashed worker from a clean end
 * ```ts ignore
 * import { IpcWorkerExitedError, spawnWorkerWithIpc } from "@tether/ipc";
 *
 * const worker = spawnWorkerWithIpc(new URL("./worker.ts", import.meta.url));
 * const error = await worker.closed;
 * if (error instanceof IpcWorkerExitedError) console.error(error.message);
 * ```
 */
export class IpcWorkerExitedError extends IpcError {
  /** The worker's name. */
  readonly workerName: string;
  /**
   * The exit code when the worker called `Deno.exit()` (or
   * `process.exit()`); `undefined` when it ended another way.
   */
  readonly code: number | undefined;

  /**
   * Creates the error.
   *
   * @param workerName The worker's name.
   * @param how What happened, e.g. `threw an uncaught error: …`.
   * @param options The underlying `cause`, if any, and the exit `code`, if
   *   the worker called `Deno.exit()`.
   */
  constructor(
    workerName: string,
    how: string,
    options?: ErrorOptions & { code?: number },
  ) {
    super(`Worker "${workerName}" ${how}`, options);
    this.workerName = workerName;
    this.code = options?.code;
  }
}

/**
 * A worker was asked to run with its own `permissions`, which Deno allows
 * only with the `--unstable-worker-options` flag; without it Deno would end
 * the whole process, and a worker started without `permissions` would
 * inherit every permission of its parent. So nothing is started.
 *
 * @example
 * ```ts ignore
 * import { IpcUnstableFlagError, spawnWorkerWithIpc } from "@tether/ipc";
 *
 * try {
 *   spawnWorkerWithIpc("./worker.ts", { permissions: { read: ["./data"] } });
 * } catch (error) {
 *   if (error instanceof IpcUnstableFlagError) console.log(error.flag); // "--unstable-worker-options"
 * }
 * ```
 */
export class IpcUnstableFlagError extends IpcError {
  /** The flag the process must run with. */
  readonly flag: string;

  /**
   * Creates the error.
   *
   * @param flag The missing flag.
   * @param message The explanation.
   */
  constructor(flag: string, message: string) {
    super(message);
    this.flag = flag;
  }
}

/** "exited with code 1", "was killed by SIGKILL (code 137)". */
function howItEnded(status: { code: number; signal: Deno.Signal | null }) {
  return status.signal === null
    ? `exited with code ${status.code}`
    : `was killed by ${status.signal} (code ${status.code})`;
}

/** Whether the chain of causes holds a crash whose stderr was discarded. */
function stderrHidden(cause: unknown): boolean {
  for (let depth = 0; cause instanceof Error && depth < 4; depth++) {
    if (cause instanceof IpcChildEndedError) {
      return cause.stderrHidden && cause.signal === null && cause.code !== 0;
    }
    cause = cause.cause;
  }
  return false;
}
