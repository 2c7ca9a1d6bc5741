/**
 * The errors of child processes and their channel:
 *
 * ```text
 * IpcError
 * ├── IpcSpawnError             the command could not be started (ENOENT, EACCES…)
 * ├── IpcChannelNotFoundError   connectParentIpc() found no channel on fd 3
 * ├── IpcChildEndedError        a spawnWithIpc() child crashed or was killed: why its channel closed
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
export function howItEnded(
  status: { code: number; signal: Deno.Signal | null },
) {
  return status.signal === null
    ? `exited with code ${status.code}`
    : `was killed by ${status.signal} (code ${status.code})`;
}
