/**
 * {@linkcode ChannelLifecycle}: the one state of a channel, and why it
 * closed.
 *
 * @module
 */

import { IpcClosedError } from "../errors.ts";

/**
 * `"open"`; `"closing"` once `close()` was called or bad input arrived
 * (sends are refused, queued writes go out); `"closed"` once the transport is
 * gone and everything waiting was settled.
 */
export type ChannelState = "open" | "closing" | "closed";

/** The lifecycle of a channel: open, closing, closed; and why. */
export class ChannelLifecycle {
  #state: ChannelState = "open";
  #reason = "";
  #cause: Error | undefined;
  #closed = Promise.withResolvers<void>();

  /** Where the channel is. */
  get state(): ChannelState {
    return this.#state;
  }

  /** Resolves once the channel is closed; never rejects. */
  get closed(): Promise<void> {
    return this.#closed.promise;
  }

  /** `true` when a failure closed the channel (bad input, a broken connection). */
  get failed(): boolean {
    return this.#cause !== undefined;
  }

  /**
   * Moves from open to closing, remembering why.
   *
   * @returns `false` when it was not open.
   */
  startClosing(reason: string, cause: Error | undefined): boolean {
    if (this.#state !== "open") return false;
    this.#state = "closing";
    this.#reason = reason;
    this.#cause = cause;
    return true;
  }

  /**
   * Moves to closed, runs `cleanup`, then resolves {@linkcode closed}.
   * Does nothing when already closed.
   */
  finish(cleanup: () => void): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    cleanup();
    this.#closed.resolve();
  }

  /** The error for doing `action` on the closed channel, saying why it closed. */
  closedError(action: string): IpcClosedError {
    return new IpcClosedError(
      `Cannot ${action}: the IPC channel is closed (${
        this.#reason || "close() was called"
      }).`,
      { cause: this.#cause },
    );
  }
}
