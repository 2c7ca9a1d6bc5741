/**
 * {@linkcode PoolChild}: one child process of an `IpcPool`, the calls it
 * runs, and how it is stopped.
 *
 * @module
 */

import { settlesWithin } from "../internal/deadline.ts";
import type {
  IpcChildProcess,
  IpcChildStatus,
} from "../process/spawn_with_ipc.ts";

/** On `close()`, a child has this long to exit after its channel closes. */
const STOP_GRACE_MS = 5000;

/** One child and the calls it runs. */
export class PoolChild {
  /** The process and its channel. */
  readonly process: IpcChildProcess;
  /** `performance.now()` when it was started. */
  readonly startedAt: number = performance.now();
  /** Resolved with its status when it exits. */
  readonly exited: PromiseWithResolvers<IpcChildStatus> = Promise
    .withResolvers<IpcChildStatus>();
  /** Its status once it exited. */
  exitStatus: IpcChildStatus | undefined;
  /** Calls sent to it and not answered yet. */
  inFlight = 0;
  /** Calls it answered (with a result or an error of its handler). */
  completed = 0;

  /** @param process The child, just started. */
  constructor(process: IpcChildProcess) {
    this.process = process;
  }

  /** Kills the child with SIGKILL unless it has exited. */
  kill(): void {
    if (this.exitStatus !== undefined) return;
    try {
      this.process.kill("SIGKILL");
    } catch {
      // It exited meanwhile: its status is on the way.
    }
  }

  /**
   * Closes the child's channel, so its handlers stop keeping it alive, and
   * waits for it to exit, killing it if it has not within 5 s.
   */
  async stop(): Promise<void> {
    await this.process.ipc.close();
    if (!await settlesWithin(this.exited.promise, STOP_GRACE_MS)) {
      this.kill();
      await this.exited.promise;
    }
  }
}
