/**
 * {@linkcode WorkerPortTransport}: whole messages through a Web Worker's
 * `postMessage()` (structured clone), in both directions, with a credit
 * window so that neither side can flood the other.
 *
 * `postMessage()` never pushes back: a worker that does not read lets
 * posted messages pile up in its queue without limit. So each side posts
 * only while it holds credit, which the receiver grants: `window` bytes when
 * the channel opens, then the size of each batch once its messages are in
 * the receiving channel (whose queue stops taking at `receiveBufferBytes`).
 * What is in flight stays under the window plus one batch; what waits for
 * credit waits in the sender's queue, which `sendBufferBytes` bounds.
 *
 * The envelopes, objects with a `tetherIpc` key:
 *
 * - `open` (worker → parent, once): the worker's side is listening; grants `credit`.
 * - `credit` (both ways): grants `credit` more bytes.
 * - `batch` (both ways): `messages` in order, with their `sizes`.
 * - `end` (both ways): the sender closed its end. The worker posts it a task
 *   after its channel closed, so that a close on the way out of an uncaught
 *   error (`await using`, `finally`) is never seen before the error.
 * - `exit` (worker → parent): the worker is going away (`self.close()`,
 *   `Deno.exit()`), for `reason`, with the exit `code` when there is one.
 *
 * @module
 */

import { ArrayQueue } from "../internal/array_queue.ts";
import { cloneSize } from "./clone_size.ts";
import { BatchChecker, type IncomingBatch } from "./worker_batch.ts";
import { moveTransfer, TransferringMessage } from "./transfer.ts";
import type { IpcMessageSink, IpcMessageTransport } from "./transport.ts";

/** The part of a `Worker`, or of a worker's global scope, a channel uses. */
export interface WorkerPort {
  /** Posts one message, moving `transfer`. */
  postMessage(message: unknown, transfer: Transferable[]): void;
  /** Listens for messages. */
  addEventListener(
    type: "message",
    listener: (event: MessageEvent) => void,
  ): void;
  /** Stops listening. */
  removeEventListener(
    type: "message",
    listener: (event: MessageEvent) => void,
  ): void;
}

/** Default credit window: 1 MiB, as `receiveBufferBytes`. */
const DEFAULT_WINDOW_BYTES = 1024 * 1024;

type Envelope =
  | { tetherIpc: "open"; credit: number }
  | { tetherIpc: "credit"; credit: number }
  | { tetherIpc: "batch"; messages: unknown[]; sizes: number[] }
  | { tetherIpc: "end" }
  | { tetherIpc: "exit"; reason: string; code?: number };

/** A batch handed to `write()`, waiting for credit. */
interface OutgoingBatch {
  messages: readonly unknown[];
  done: (error?: Error) => void;
}

/** Options of a {@linkcode WorkerPortTransport}. */
export interface WorkerPortTransportOptions {
  /** Which end this is: the worker's says `open` when it starts. */
  side: "parent" | "worker";
  /** Bytes the peer may post before this end grants more. @default {1048576} */
  window?: number;
  /**
   * The parent's side: the worker said it is going away, for `reason`, with
   * its exit `code` if it called `Deno.exit()`; `open` tells whether the
   * channel was still open.
   */
  onExit?: (reason: string, open: boolean, code: number | undefined) => void;
  /**
   * The parent's side: measures each incoming message itself instead of
   * trusting the sizes the worker sends (a worker may run untrusted code
   * with few permissions), and refuses a message over this many bytes.
   */
  incomingLimit?: number;
}

/** Messages through a worker's port; see the module documentation. */
export class WorkerPortTransport implements IpcMessageTransport {
  readonly carriesMessages = true;
  readonly transfers = true;
  #port: WorkerPort;
  #side: "parent" | "worker";
  #window: number;
  #onExit:
    | ((reason: string, open: boolean, code: number | undefined) => void)
    | undefined;
  #checker: BatchChecker;
  /** Credit granted to the peer since the start (checked on the parent's side). */
  #granted = 0;
  #sink: IpcMessageSink | undefined;
  /** Bytes this end may still post. */
  #credit = 0;
  /** Sizes of measured messages, in the order `write()` will get them. */
  #measured = new ArrayQueue<number>();
  #outgoing = new ArrayQueue<OutgoingBatch>();
  #incoming = new ArrayQueue<IncomingBatch>();
  #paused = false;
  /** Credit earned by delivered batches, granted at the next microtask. */
  #owed = 0;
  #peerEnded = false;
  #ended = false;
  /** The worker's side: its `end`, waiting for the next task. */
  #endTimer: ReturnType<typeof setTimeout> | undefined;
  #closing: PromiseWithResolvers<void> | undefined;
  #done = false;
  /** The worker is going away: what is queued goes out without credit. */
  #draining = false;

  /**
   * @param port The `Worker` (parent side) or the worker's global scope.
   * @param options Which side, and the credit window.
   */
  constructor(port: WorkerPort, options: WorkerPortTransportOptions) {
    this.#port = port;
    this.#side = options.side;
    this.#window = options.window ?? DEFAULT_WINDOW_BYTES;
    this.#onExit = options.onExit;
    this.#checker = new BatchChecker(options.incomingLimit);
  }

  /** `true` once the channel over it is closed: nothing more is sent or received. */
  get finished(): boolean {
    return this.#done;
  }

  start(sink: IpcMessageSink): void {
    this.#sink = sink;
    this.#port.addEventListener("message", this.#onMessage);
    if (this.#side === "worker") {
      this.#post({ tetherIpc: "open", credit: this.#window });
    }
  }

  resume(): void {
    this.#paused = false;
    this.#deliver();
  }

  measure(message: unknown, maxMessageBytes: number): number {
    let size: number;
    if (message instanceof TransferringMessage) {
      size = cloneSize(message.message, maxMessageBytes);
      moveTransfer(message);
    } else {
      size = cloneSize(message, maxMessageBytes);
    }
    this.#measured.push(size);
    return size;
  }

  write(messages: readonly unknown[], done: (error?: Error) => void): void {
    if (this.#done) {
      done(new Error("The worker's channel is closed."));
      return;
    }
    this.#outgoing.push({ messages, done });
    this.#flush();
  }

  close(): Promise<void> {
    if (this.#done) return Promise.resolve();
    this.#closing ??= Promise.withResolvers<void>();
    this.#flush();
    return this.#closing.promise;
  }

  destroy(): void {
    if (this.#done) return;
    this.#sendEnd();
    this.#detach();
  }

  ref(): void {
    // A Worker keeps its parent alive until it is terminated, and a worker
    // runs until it is terminated or closes itself: nothing to change.
  }

  unref(): void {
    // See ref().
  }

  /**
   * The worker is going away: tells the parent why (from the worker's side),
   * or reports it to the channel (from the parent's side, for an error or
   * `terminate()`). Nothing more is sent or received.
   *
   * @param error Why.
   */
  fail(error: Error): void {
    if (this.#side === "worker") this.exiting(error.message);
    if (this.#done) return;
    // What arrived before goes to the channel first, full or not.
    this.#paused = false;
    this.#deliver();
    this.#sink?.end(error);
    this.#detach();
  }

  /**
   * From the worker's side: tells the parent the worker is going away, for
   * `reason`, even after the channel closed.
   *
   * @param reason What happened, e.g. `called self.close()`.
   * @param code The exit code, for `Deno.exit()`.
   */
  exiting(reason: string, code?: number): void {
    this.#draining = true;
    this.#flush();
    if (this.#endTimer !== undefined) {
      // A clean close comes first: this exit is not a failure.
      clearTimeout(this.#endTimer);
      this.#endTimer = undefined;
      this.#post({ tetherIpc: "end" });
    }
    this.#post(
      code === undefined
        ? { tetherIpc: "exit", reason }
        : { tetherIpc: "exit", reason, code },
    );
  }

  #onMessage = (event: MessageEvent): void => {
    const data = event.data as Partial<Envelope> | null;
    if (typeof data !== "object" || data === null) return;
    // Once closed, only the worker's going away still matters (to its parent).
    if (this.#done && data.tetherIpc !== "exit") return;
    switch (data.tetherIpc) {
      case "open":
        if (this.#side !== "parent") return;
        this.#post({ tetherIpc: "credit", credit: this.#window });
        this.#granted += this.#window;
        this.#addCredit(data);
        return;
      case "credit":
        this.#addCredit(data);
        return;
      case "batch":
        // A batch may overdraw the credit left, not start past it.
        this.#incoming.push(
          this.#side === "parent" && this.#checker.bytes >= this.#granted
            ? this.#checker.malformed(
              "more than the credit it was granted",
              data,
            )
            : this.#checker.check(data),
        );
        this.#deliver();
        return;
      case "end":
        this.#peerEnded = true;
        this.#deliver();
        return;
      case "exit": {
        const { reason, code } = data as { reason: string; code?: unknown };
        if (this.#onExit !== undefined) {
          this.#onExit(
            String(reason),
            !this.#done,
            typeof code === "number" ? code : undefined,
          );
        } else this.fail(new Error(`The peer ${reason}.`));
        return;
      }
    }
  };

  #addCredit(data: Partial<Envelope>): void {
    const { credit } = data as { credit?: unknown };
    if (typeof credit !== "number" || !(credit > 0) || credit === Infinity) {
      this.#incoming.push(
        this.#checker.malformed(`a credit of ${String(credit)}`, data),
      );
      this.#deliver();
      return;
    }
    this.#credit += credit;
    this.#flush();
  }

  /** Hands received messages to the channel until it is full. */
  #deliver(): void {
    const sink = this.#sink;
    if (sink === undefined || this.#done) return;
    const incoming = this.#incoming;
    while (!this.#paused) {
      const batch = incoming.peek();
      if (batch === undefined) break;
      const { messages, sizes } = batch;
      while (batch.next < messages.length) {
        const index = batch.next++;
        if (!sink.message(messages[index], sizes[index] ?? 0)) {
          this.#paused = true;
          break;
        }
      }
      if (batch.next < messages.length) break;
      incoming.shift();
      if (batch.error !== undefined) {
        incoming.clear();
        sink.badInput(batch.error);
        return;
      }
      this.#grant(sizes.reduce((sum, size) => sum + size, 0));
    }
    if (this.#peerEnded && incoming.length === 0) {
      this.#peerEnded = false;
      sink.end();
    }
  }

  /**
   * Grants the peer `bytes` more once a quarter of the window is owed, so
   * that small messages do not each cost a credit message back. The peer
   * can only be stuck with its whole window in flight, and then at least
   * that much is owed once it is delivered: no deadlock.
   */
  #grant(bytes: number): void {
    const owed = this.#owed;
    this.#owed += Math.max(bytes, 1);
    if (owed >= this.#window / 4 || this.#owed < this.#window / 4) return;
    queueMicrotask(() => {
      const credit = this.#owed;
      this.#owed = 0;
      if (!this.#done && !this.#ended) {
        this.#post({ tetherIpc: "credit", credit });
        this.#granted += credit;
      }
    });
  }

  /** Posts the batches waiting while there is credit; closes when asked and done. */
  #flush(): void {
    const outgoing = this.#outgoing;
    while ((this.#credit > 0 || this.#draining) && !this.#done) {
      const batch = outgoing.shift();
      if (batch === undefined) break;
      const { messages, done } = batch;
      const values: unknown[] = new Array(messages.length);
      const sizes = this.#measured.shiftMany(messages.length);
      const transfer: Transferable[] = [];
      let total = 0;
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i];
        if (message instanceof TransferringMessage) {
          values[i] = message.message;
          transfer.push(...message.transfer);
        } else {
          values[i] = message;
        }
        total += sizes[i] ?? 0;
      }
      try {
        this.#port.postMessage(
          { tetherIpc: "batch", messages: values, sizes },
          transfer,
        );
      } catch (error) {
        done(error as Error);
        continue;
      }
      this.#credit -= Math.max(total, 1);
      done();
    }
    if (this.#closing !== undefined && outgoing.length === 0) {
      this.#sendEnd();
      this.#detach();
    }
  }

  #sendEnd(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#side === "parent") {
      this.#post({ tetherIpc: "end" });
      return;
    }
    // An uncaught error ends a worker before its next task: when this close
    // is on the error's way out, the parent sees the error, not a clean end.
    this.#endTimer = setTimeout(() => {
      this.#endTimer = undefined;
      this.#post({ tetherIpc: "end" });
    }, 0);
  }

  #post(envelope: Envelope): void {
    try {
      this.#port.postMessage(envelope, []);
    } catch {
      // The worker is gone: the channel learns it from its own end.
    }
  }

  /** Stops listening, fails what waits, and settles `close()`. */
  #detach(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#onExit === undefined) {
      this.#port.removeEventListener("message", this.#onMessage);
    }
    const gone = new Error("The worker's channel closed before this was sent.");
    for (let batch; (batch = this.#outgoing.shift()) !== undefined;) {
      batch.done(gone);
    }
    this.#incoming.clear();
    this.#measured.clear();
    this.#closing?.resolve();
  }
}
