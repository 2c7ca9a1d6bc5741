/**
 * The errors of child processes and their channel:
 *
 * ```text
 * IpcError
 * ├── IpcSpawnError             the command could not be started (ENOENT, EACCES…)
 * ├── IpcChannelNotFoundError   connectParentIpc() found no channel on fd 3
 * └── IpcChildExitedError       the other side ended: a spawnWithIpc() child crashed or was killed,
 *                               a worker threw, exited or was terminated, a pool's child exited mid-call
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
 * The other side ended: a child of `spawnWithIpc()` ended abnormally (a
 * non-zero exit code or a signal, or an exit that left what it was sent
 * unread), a worker of `spawnWorkerWithIpc()` ended while its channel was
 * open (it threw, called `Deno.exit()` or `self.close()`, sent a message that
 * could not be cloned, or was terminated), or the child of an
 * {@linkcode IpcPool} running a call ended before answering.
 *
 * For a process or worker it is the `cause` of the `IpcClosedError` that
 * calls waiting for an answer reject with, whose message says the same. A
 * pool's call rejects with it directly (with `method` set): the pool started a
 * replacement and did not retry the call, since running it twice may not be
 * safe.
 *
 * @example Retry a pool call that is safe to run twice
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
 *
 * @example Tell a crash from a clean close
 * ```ts ignore
 * import { IpcChildExitedError, IpcClosedError, spawnWithIpc } from "@tether/ipc";
 *
 * await using child = spawnWithIpc(Deno.execPath(), { args: ["run", "worker.ts"] });
 * try {
 *   await child.ipc.request("work");
 * } catch (error) {
 *   if (error instanceof IpcClosedError && error.cause instanceof IpcChildExitedError) {
 *     console.error(`worker died: code ${error.cause.code}, signal ${error.cause.signal}`);
 *   }
 * }
 * ```
 */
export class IpcChildExitedError extends IpcError {
  /** What ended: a child process, or a worker (also a pool's worker child). */
  readonly kind: "process" | "worker";
  /** The child's process id (`Deno.pid` for a pool's worker); `undefined` for a worker of `spawnWorkerWithIpc()`. */
  readonly pid: number | undefined;
  /**
   * Its exit code: 128 + the signal number when a signal ended a process;
   * for a worker, the code given to `Deno.exit()`, `undefined` when it ended
   * another way.
   */
  readonly code: number | undefined;
  /** The signal that ended it, or `null`. */
  readonly signal: Deno.Signal | null;
  /** The pool call it was running, for a pool's child; else `undefined`. */
  readonly method: string | undefined;
  /**
   * Why the pool knows it ended, when it does: e.g. it ran out of memory
   * (`maxMemoryMiB`), or was killed because a call timed out
   * (`killOnTimeout`).
   */
  readonly reason: string | undefined;
  /** The worker's name, for a worker of `spawnWorkerWithIpc()`; else `undefined`. */
  readonly workerName: string | undefined;
  /** `true` when the child's stderr was discarded (`stderr: "null"`), so what it printed is lost. */
  readonly stderrHidden: boolean;

  /**
   * Creates the error.
   *
   * @param message The explanation.
   * @param details What ended, and how.
   * @param options The underlying `cause`, if any.
   */
  constructor(
    message: string,
    details: {
      kind: "process" | "worker";
      pid?: number;
      code?: number;
      signal?: Deno.Signal | null;
      method?: string;
      reason?: string;
      workerName?: string;
      stderrHidden?: boolean;
    },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.kind = details.kind;
    this.pid = details.pid;
    this.code = details.code;
    this.signal = details.signal ?? null;
    this.method = details.method;
    this.reason = details.reason;
    this.workerName = details.workerName;
    this.stderrHidden = details.stderrHidden === true;
  }
}

/** A child of `spawnWithIpc()` ended abnormally: the cause of its channel's close. */
export function childEndedError(
  pid: number,
  status: { code: number; signal: Deno.Signal | null },
  options?: ErrorOptions & { stderrHidden?: boolean },
): IpcChildExitedError {
  const crashed = status.signal === null && status.code !== 0;
  const hidden = options?.stderrHidden === true;
  return new IpcChildExitedError(
    `child process ${pid} ${howItEnded(status)}` +
      (!crashed
        ? ""
        : hidden
        ? `; its stderr is discarded (stderr: "null"): pass stderr: "inherit" to see why`
        : "; its stderr may say why"),
    { kind: "process", pid, ...status, stderrHidden: hidden },
    options,
  );
}

/** A worker of `spawnWorkerWithIpc()` ended while its channel was open. */
export function workerExitedError(
  workerName: string,
  how: string,
  options?: ErrorOptions & { code?: number },
): IpcChildExitedError {
  return new IpcChildExitedError(
    `Worker "${workerName}" ${how}`,
    { kind: "worker", workerName, code: options?.code },
    options,
  );
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

/** "exited with code 1", "was killed by SIGKILL (code 137)". */
export function howItEnded(
  status: { code: number; signal: Deno.Signal | null },
) {
  return status.signal === null
    ? `exited with code ${status.code}`
    : `was killed by ${status.signal} (code ${status.code})`;
}
