/**
 * Every error class of this library, in one bottom-layer file that imports
 * nothing, so that any layer can throw any of them without importing upward:
 *
 * ```text
 * IpcError                      every error of this library
 * ├── IpcProtocolError          the peer sent bytes that are not a message, or too many stream items
 * ├── IpcMessageTooLargeError   a message over maxMessageBytes, either way
 * ├── IpcValidationError        a message failed the validate option
 * ├── IpcClosedError            the channel (or the pool, or the listener) is closed
 * ├── IpcRemoteError            the peer's handler threw, or the peer answered with an error
 * │   └── IpcMethodNotFoundError  the peer has no handler for the method
 * ├── IpcTimeoutError           no answer within the call's timeout
 * ├── IpcCancelledError         (in a handler's signal) the caller gave up
 * ├── IpcSpawnError             the command could not be started (ENOENT, EACCES…)
 * ├── IpcChannelNotFoundError   connectParentIpc() found no channel on fd 3
 * ├── IpcChildExitedError       the other side ended: a child process, a worker, a pool's child
 * ├── IpcQueueFullError         maxQueue calls already wait for a pool's child
 * ├── IpcHandshakeError         the opening handshake of a network channel failed (reason)
 * ├── IpcConnectionRefusedError nothing listens there, or it is full (busy)
 * ├── IpcAddressInUseError      the path or port is taken
 * └── IpcNoRespondersError      (NATS) no worker serves the method
 * ```
 *
 * Each says what happened and what to do about it; the fields carry the
 * details a program needs to react. A wrong or unsafe option is a
 * `TypeError` or `RangeError` instead.
 *
 * @module
 */

// ---- The channel ----

/**
 * Base class of every error raised by this library, so one `instanceof`
 * catches them all.
 *
 * @example Catch any channel error
 * ```ts
 * import { IpcError, IpcJsonStream } from "@tether/ipc";
 *
 * const input = new Blob(["{\"ok\":1}\n{broken\n"]).stream();
 * const ipc = new IpcJsonStream({ readable: input, writable: new WritableStream() });
 * try {
 *   for await (const message of ipc) console.log(message);
 * } catch (error) {
 *   if (error instanceof IpcError) console.error("channel failed:", error.message);
 * }
 * ```
 */
export class IpcError extends Error {
  /**
   * Creates an error with the given message.
   *
   * @param message What happened and what to do about it.
   * @param options The underlying `cause`, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The peer broke the protocol. Either the bytes received are not a valid
 * message stream: a line is not valid JSON or not valid UTF-8, or the channel
 * ended in the middle of a message; every complete message before the bad one
 * has been delivered when this is thrown, and the receiving side of the
 * channel has stopped. Or (`method` set, the other fields `undefined`) the
 * peer broke the protocol of a streaming call: it sent more items than the
 * credit this end gave it; only that stream fails (and is cancelled in the
 * peer), the channel and its other calls go on.
 *
 * @example Report where the stream broke
 * ```ts
 * import { IpcJsonStream, IpcProtocolError } from "@tether/ipc";
 *
 * const input = new Blob(["1\n2\nnot json\n"]).stream();
 * const ipc = new IpcJsonStream({ readable: input, writable: new WritableStream() });
 * const seen: unknown[] = [];
 * try {
 *   for await (const message of ipc) seen.push(message);
 * } catch (error) {
 *   if (!(error instanceof IpcProtocolError)) throw error;
 *   console.log(seen, error.messageIndex, error.byteOffset, error.excerpt); // [1, 2] 2 4 "not json"
 * }
 * ```
 */
export class IpcProtocolError extends IpcError {
  /** Zero-based index of the offending message (the count of good messages before it); `undefined` for a stream's. */
  readonly messageIndex: number | undefined;
  /** Offset of the first byte of the offending message from the start of the channel; `undefined` for a stream's. */
  readonly byteOffset: number | undefined;
  /** The start of the offending message, as text, shortened to a few dozen characters; `undefined` for a stream's. */
  readonly excerpt: string | undefined;
  /** `true` when the channel ended in the middle of a message rather than carrying a bad one. */
  readonly truncated: boolean;
  /** The method whose stream failed, when a streaming call broke the protocol; else `undefined`. */
  readonly method: string | undefined;

  /**
   * Creates a protocol error.
   *
   * @param message The full explanation.
   * @param details Where the bad input is and whether the input was cut
   *   short; or the `method` whose stream broke the protocol.
   * @param options The underlying `cause`, if any (e.g. the `SyntaxError` of `JSON.parse`).
   */
  constructor(
    message: string,
    details: {
      messageIndex?: number;
      byteOffset?: number;
      excerpt?: string;
      truncated?: boolean;
      method?: string;
    },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.messageIndex = details.messageIndex;
    this.byteOffset = details.byteOffset;
    this.excerpt = details.excerpt;
    this.truncated = details.truncated === true;
    this.method = details.method;
  }
}

/**
 * A message is larger than the channel's `maxMessageBytes` limit.
 *
 * On the sending side `send()` rejects with it before writing a byte, and the
 * channel stays usable. On the receiving side the iterator throws it after
 * every message before the oversized one, and the receiving side stops: the
 * rest of the oversized message is never buffered.
 *
 * @example Refuse to send a message that is too large
 * ```ts
 * import { IpcJsonStream, IpcMessageTooLargeError } from "@tether/ipc";
 *
 * const ipc = new IpcJsonStream(
 *   { readable: new ReadableStream(), writable: new WritableStream() },
 *   { maxMessageBytes: 1024 },
 * );
 * try {
 *   await ipc.send("x".repeat(2048));
 * } catch (error) {
 *   if (error instanceof IpcMessageTooLargeError) console.log(error.limit); // 1024
 * }
 * await ipc.close();
 * ```
 */
export class IpcMessageTooLargeError extends IpcError {
  /** Size of the message in bytes, or the size seen so far when receiving. */
  readonly size: number;
  /** The `maxMessageBytes` limit in force. */
  readonly limit: number;

  /**
   * Creates the error.
   *
   * @param message The full explanation.
   * @param size The message size in bytes (or at least this many).
   * @param limit The limit in force.
   */
  constructor(message: string, size: number, limit: number) {
    super(message);
    this.size = size;
    this.limit = limit;
  }
}

/**
 * The error of a `send()` refused for its size; shared by both serializations.
 *
 * @param size The message's size in bytes.
 * @param limit The `maxMessageBytes` in force.
 */
export function tooLargeToSend(
  size: number,
  limit: number,
): IpcMessageTooLargeError {
  return new IpcMessageTooLargeError(
    `Cannot send a ${size}-byte message: it is larger than maxMessageBytes (${limit}). ` +
      `Nothing was written. Split the data, or raise maxMessageBytes on both ends.`,
    size,
    limit,
  );
}

/**
 * The channel is closed: `send()` was called after `close()`, after the peer
 * went away, or after the channel failed; or `receive()` found no more
 * messages.
 *
 * @example Sending after close
 * ```ts
 * import { IpcClosedError, IpcJsonStream } from "@tether/ipc";
 *
 * const ipc = new IpcJsonStream({ readable: new ReadableStream(), writable: new WritableStream() });
 * await ipc.close();
 * await ipc.send("late").catch((error) => console.log(error instanceof IpcClosedError)); // true
 * ```
 */
export class IpcClosedError extends IpcError {}

/**
 * A received message failed the channel's `validate` check.
 *
 * With the default policy the iterator throws it in place of the message;
 * the channel stays open and iterating again goes on with the next message.
 *
 * @example Validate with a guard function
 * ```ts
 * import { IpcJsonStream, IpcValidationError } from "@tether/ipc";
 *
 * const ipc = new IpcJsonStream<number>(
 *   { readable: new Blob(['1\n"two"\n3\n']).stream(), writable: new WritableStream() },
 *   { validate: (message) => typeof message === "number" },
 * );
 * console.log(await ipc.receive()); // 1
 * try {
 *   await ipc.receive();
 * } catch (error) {
 *   if (error instanceof IpcValidationError) console.log(error.messageIndex, error.value); // 1 "two"
 * }
 * console.log(await ipc.receive()); // 3
 * ```
 */
export class IpcValidationError extends IpcError {
  /** Zero-based index of the message among those received. */
  readonly messageIndex: number;
  /** What is wrong with the message, as the schema reported it. */
  readonly issues: ReadonlyArray<
    {
      readonly message: string;
      readonly path?: ReadonlyArray<unknown> | undefined;
    }
  >;
  /** The message as received. */
  readonly value: unknown;

  /**
   * Creates the error.
   *
   * @param message The explanation.
   * @param details Which message, its issues and its value.
   */
  constructor(
    message: string,
    details: {
      messageIndex: number;
      issues: ReadonlyArray<
        {
          readonly message: string;
          readonly path?: ReadonlyArray<unknown> | undefined;
        }
      >;
      value: unknown;
    },
  ) {
    super(message);
    this.messageIndex = details.messageIndex;
    this.issues = details.issues;
    this.value = details.value;
  }
}

// ---- Calls ----

/** The error object of a JSON-RPC error response, as received. */
export interface IpcRemoteErrorDetails {
  /** The JSON-RPC error code. */
  code: number;
  /** The error's message in the peer. */
  message: string;
  /** The error's `name` in the peer, when it sent one. */
  name?: string;
  /** The error's stack in the peer, when it sent one. */
  stack?: string;
  /** The error's `data`, when it had any. */
  data?: unknown;
}

/**
 * A call failed in the peer: its handler threw (or rejected), or the peer
 * answered with a JSON-RPC error. `remoteName`, `remoteMessage`,
 * `remoteStack` and `data` are those of the error in the peer.
 *
 * @example Catch an error thrown by the peer's handler
 * ```ts
 * import { IpcJsonStream, IpcRemoteError } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("divide", ({ a, b }: { a: number; b: number }) => {
 *   if (b === 0) throw Object.assign(new RangeError("b is 0"), { data: { a } });
 *   return a / b;
 * });
 * try {
 *   await caller.request("divide", { a: 1, b: 0 });
 * } catch (error) {
 *   if (!(error instanceof IpcRemoteError)) throw error;
 *   console.log(error.remoteName, error.remoteMessage, error.data); // RangeError b is 0 { a: 1 }
 * }
 * await caller.close();
 * await callee.close();
 * ```
 */
export class IpcRemoteError extends IpcError {
  /** The method that was called. */
  readonly method: string;
  /** The JSON-RPC error code: -32000 for an error a handler threw, unless it set an integer `code`. */
  readonly code: number;
  /** The error's `name` in the peer (`"Error"` when it sent none). */
  readonly remoteName: string;
  /** The error's message in the peer. */
  readonly remoteMessage: string;
  /** The error's stack in the peer, if it sent one. */
  readonly remoteStack: string | undefined;
  /** The error's `data` in the peer, if any. */
  readonly data: unknown;

  /**
   * Creates the error.
   *
   * @param method The method called.
   * @param details The error the peer sent.
   * @param message The explanation; by default one naming the method and the peer's error.
   */
  constructor(
    method: string,
    details: {
      /** The JSON-RPC error code. */
      code: number;
      /** The error's message in the peer. */
      message: string;
      /** The error's `name` in the peer, when it sent one. */
      name?: string;
      /** The error's stack in the peer, when it sent one. */
      stack?: string;
      /** The error's `data`, when it had any. */
      data?: unknown;
    },
    message?: string,
  ) {
    const name = details.name ?? "Error";
    super(
      message ??
        `The call "${method}" failed in the peer with ${name}: ${details.message}` +
          (details.stack === undefined
            ? ""
            : " (the peer's stack is in .remoteStack)"),
    );
    this.method = method;
    this.code = details.code;
    this.remoteName = name;
    this.remoteMessage = details.message;
    this.remoteStack = details.stack;
    this.data = details.data;
  }
}

/**
 * The peer has no handler for the method called (JSON-RPC error -32601).
 *
 * @example
 * ```ts
 * import { IpcJsonStream, IpcMethodNotFoundError } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("known", () => "yes");
 * const error = await caller.request("unknown").catch((error) => error);
 * if (error instanceof IpcMethodNotFoundError) console.log(error.code); // -32601
 * await caller.close();
 * await callee.close();
 * ```
 */
export class IpcMethodNotFoundError extends IpcRemoteError {
  /**
   * Creates the error.
   *
   * @param method The method called.
   * @param details The error the peer sent.
   */
  constructor(
    method: string,
    details: ConstructorParameters<typeof IpcRemoteError>[1],
  ) {
    super(
      method,
      details,
      `The peer has no handler for "${method}" (JSON-RPC error ${details.code}): ` +
        `register one with handle(${
          JSON.stringify(method)
        }, fn) on the other side before calling it, or check the method's name.`,
    );
  }
}

/**
 * A call got no answer within its `timeout`. The call was cancelled in the
 * peer (its handler's `signal` fired), or, in an {@linkcode IpcPool}, it
 * was still waiting for a child and was never sent.
 *
 * @example
 * ```ts
 * import { IpcJsonStream, IpcTimeoutError } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * callee.handle("slow", (_params, { signal }) =>
 *   new Promise((resolve) => {
 *     const timer = setTimeout(resolve, 10_000);
 *     signal.addEventListener("abort", () => { clearTimeout(timer); resolve(null); });
 *   }));
 * const error = await caller.request("slow", null, { timeout: 50 }).catch((error) => error);
 * if (error instanceof IpcTimeoutError) console.log(error.timeout); // 50
 * await caller.close();
 * await callee.close();
 * ```
 */
export class IpcTimeoutError extends IpcError {
  /** The method that was called. */
  readonly method: string;
  /** The timeout, in milliseconds. */
  readonly timeout: number;
  /** The pid of the child that had the call, for a call made through an `IpcPool`. */
  readonly pid: number | undefined;
  /**
   * `true` when, as the timeout passed, reading from the peer was paused
   * because `receiveBufferBytes` of plain messages lay unread: the answer
   * may have been behind them.
   */
  readonly receiveBufferFull: boolean;

  /**
   * Creates the error.
   *
   * @param method The method called.
   * @param timeout The timeout in milliseconds.
   * @param message The explanation; by default one saying the call was cancelled in the peer.
   * @param details The child's pid, whether the receive buffer was full, the cause.
   */
  constructor(
    method: string,
    timeout: number,
    message?: string,
    details: {
      /** The pid of the child that had the call (a pool's call). */
      pid?: number;
      /** Reading was paused behind unread plain messages as the timeout passed. */
      receiveBufferFull?: boolean;
      /** The error this one replaces. */
      cause?: unknown;
    } = {},
  ) {
    const { pid, receiveBufferFull = false, cause } = details;
    super(
      message ??
        `The call "${method}" got no answer within its timeout of ${timeout} ms` +
          (pid === undefined ? "" : ` from the child with pid ${pid}`) +
          `, and was cancelled in the peer. ` +
          (receiveBufferFull
            ? `Reading from the peer was paused meanwhile: receiveBufferBytes of plain messages lay unread, ` +
              `and the answer may be behind them. Read the plain messages (for await, receive()), ` +
              `or set receiveOverflow: "drop".`
            : `Raise the timeout, or make the handler faster.`),
      cause === undefined ? undefined : { cause },
    );
    this.method = method;
    this.timeout = timeout;
    this.pid = pid;
    this.receiveBufferFull = receiveBufferFull;
  }
}

/**
 * The reason a handler's `signal` fires when the caller cancelled the call:
 * its signal was aborted or its timeout passed. The answer will be ignored,
 * so the handler should stop its work.
 *
 * @example Stop work the caller no longer wants
 * ```ts
 * import { IpcCancelledError, IpcJsonStream } from "@tether/ipc";
 *
 * const there = new TransformStream<Uint8Array, Uint8Array>();
 * const back = new TransformStream<Uint8Array, Uint8Array>();
 * const caller = new IpcJsonStream({ readable: back.readable, writable: there.writable });
 * const callee = new IpcJsonStream({ readable: there.readable, writable: back.writable });
 * const stopped = Promise.withResolvers<unknown>();
 * callee.handle("work", (_params, { signal }) => {
 *   signal.addEventListener("abort", () => stopped.resolve(signal.reason));
 *   return new Promise(() => {});
 * });
 * const controller = new AbortController();
 * const call = caller.request("work", null, { signal: controller.signal });
 * setTimeout(() => controller.abort(), 10);
 * await call.catch(() => {});
 * console.log((await stopped.promise) instanceof IpcCancelledError); // true
 * await caller.close();
 * await callee.close();
 * ```
 */
export class IpcCancelledError extends IpcError {
  /** The method that was called. */
  readonly method: string;

  /**
   * Creates the error.
   *
   * @param method The method called.
   */
  constructor(method: string) {
    super(
      `The caller cancelled the call "${method}" (its signal was aborted or its timeout passed): ` +
        `stop the work, the answer will be ignored.`,
    );
    this.method = method;
  }
}

/** The peer sent more items of a streaming call than its credit allowed. */
export function streamProtocolError(
  method: string,
  what: string,
): IpcProtocolError {
  return new IpcProtocolError(
    `The streaming call "${method}" failed: ${what}. ` +
      `The peer does not follow the stream protocol (see docs/protocol.md); fix the peer.`,
    { method },
  );
}

// ---- Child processes and workers ----

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

// ---- The pool ----

/**
 * {@linkcode IpcPool.request} was called while `maxQueue` calls already
 * waited for a child. Nothing was queued: the pool refuses work rather than
 * growing memory.
 *
 * @example Back off when the pool is saturated
 * ```ts ignore
 * import { IpcPool, IpcQueueFullError } from "@tether/ipc";
 *
 * await using pool = new IpcPool({ module: "./worker.ts", size: 2, maxQueue: 100 });
 * try {
 *   await pool.request("work", {});
 * } catch (error) {
 *   if (error instanceof IpcQueueFullError) console.log(`over ${error.maxQueue} calls wait; try later`);
 * }
 * ```
 */
export class IpcQueueFullError extends IpcError {
  /** The pool's `maxQueue`. */
  readonly maxQueue: number;

  /**
   * Creates the error.
   *
   * @param method The method called.
   * @param maxQueue The limit.
   */
  constructor(method: string, maxQueue: number) {
    super(
      `Cannot queue the call "${method}": ${maxQueue} calls already wait for a child (maxQueue). ` +
        `Wait for some calls to finish before making more, or raise maxQueue.`,
    );
    this.maxQueue = maxQueue;
  }
}

/** The child of a pool running the call `method` ended before answering. */
export function poolChildExitedError(
  kind: "process" | "worker",
  method: string,
  pid: number,
  status: { code: number; signal: Deno.Signal | null },
  options?: ErrorOptions & { reason?: string },
): IpcChildExitedError {
  const reason = options?.reason;
  const hidden = stderrHidden(options?.cause);
  return new IpcChildExitedError(
    `Child process ${pid} ${
      howItEnded(status)
    } before answering the call "${method}"${
      reason === undefined ? "" : `: ${reason}`
    }. ` +
      (hidden
        ? `Its stderr is discarded (stderr: "null"): pass stderr: "inherit" to see why. `
        : "") +
      `The pool replaced it; the call was not retried: retry it if it is safe to run twice.`,
    { kind, pid, ...status, method, reason, stderrHidden: hidden },
    options,
  );
}

/** Whether the chain of causes holds a crash whose stderr was discarded. */
function stderrHidden(cause: unknown): boolean {
  for (let depth = 0; cause instanceof Error && depth < 4; depth++) {
    if (cause instanceof IpcChildExitedError) {
      return cause.stderrHidden && cause.signal === null && cause.code !== 0;
    }
    cause = cause.cause;
  }
  return false;
}

// ---- Network channels ----

/**
 * The opening handshake of a connection failed; nothing the peer sent was
 * delivered, and the connection is closed. `reason` says how:
 *
 * - `"authentication"`: the two sides do not hold the same `authKey`, one
 *   side has a key and the other none, or the peer could not prove that it
 *   knows the key;
 * - `"timeout"`: it did not finish within `handshakeTimeout` milliseconds
 *   (`timeoutMs`): the peer stalled (a slow or hostile client holding a
 *   connection open), or the link is too slow for the limit;
 * - `"dropped"`: a listener dropped it to make room for a newer one:
 *   `maxPendingHandshakes` connections were in their handshake at once (or
 *   `maxPendingHandshakesPerAddress` from one address: `limit` says which),
 *   and this one had waited longest. Reported to `onError`; many of them mean
 *   a flood of stalled or slow connections, or a limit too low for the
 *   clients' bursts;
 * - `"tls"`: the TLS handshake failed;
 * - `"protocol"`: the peer sent bytes that are not this library's handshake,
 *   or another version of it;
 * - `"closed"`: the peer closed the connection in the middle of it, or the
 *   connection failed.
 *
 * @example Report a wrong key, and allow a slow link longer
 * ```ts ignore
 * import { connectIpc, IpcHandshakeError } from "@tether/ipc";
 *
 * const authKey = Deno.readFileSync("/etc/app/ipc.key");
 * const ipc = await connectIpc({ hostname: "daemon.example", port: 7000, authKey, handshakeTimeout: 5_000 })
 *   .catch((error) => {
 *     if (!(error instanceof IpcHandshakeError)) throw error;
 *     if (error.reason === "authentication") console.error(error.message);
 *     if (error.reason !== "timeout") throw error;
 *     return connectIpc({ hostname: "daemon.example", port: 7000, authKey, handshakeTimeout: 30_000 });
 *   });
 * await ipc.close();
 * ```
 */
export class IpcHandshakeError extends IpcError {
  /** How the handshake failed. */
  readonly reason:
    | "authentication"
    | "timeout"
    | "dropped"
    | "tls"
    | "protocol"
    | "closed";
  /** For `"timeout"`: the limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number | undefined;
  /** For `"dropped"`: the listener's limit that was reached. */
  readonly limit:
    | "maxPendingHandshakes"
    | "maxPendingHandshakesPerAddress"
    | undefined;

  /**
   * Creates the error.
   *
   * @param message What happened and what to do about it.
   * @param reason How the handshake failed.
   * @param options The underlying `cause`, if any; `timeoutMs` for a
   *   timeout, `limit` for a dropped handshake.
   */
  constructor(
    message: string,
    reason: IpcHandshakeError["reason"],
    options?: ErrorOptions & {
      timeoutMs?: number;
      limit?: IpcHandshakeError["limit"];
    },
  ) {
    super(message, options);
    this.reason = reason;
    this.timeoutMs = options?.timeoutMs;
    this.limit = options?.limit;
  }
}

/**
 * The connection was refused: nothing listens at the address (a Unix socket
 * path that does not exist, or a closed port), or the server is at its
 * `maxConnections` limit and turned this connection away.
 *
 * @example Retry later when the daemon is busy or not started yet
 * ```ts ignore
 * import { connectIpc, IpcConnectionRefusedError } from "@tether/ipc";
 *
 * for (let attempt = 1; ; attempt++) {
 *   try {
 *     const ipc = await connectIpc({ path: "/run/user/1000/app/app.sock" });
 *     await ipc.close();
 *     break;
 *   } catch (error) {
 *     if (!(error instanceof IpcConnectionRefusedError) || attempt === 5) throw error;
 *     await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
 *   }
 * }
 * ```
 */
export class IpcConnectionRefusedError extends IpcError {
  /** `true` when a server answered but was at its connection limit. */
  readonly busy: boolean;

  /**
   * Creates the error.
   *
   * @param message What happened and what to do about it.
   * @param busy `true` when the server was at its connection limit.
   * @param options The underlying `cause`, if any.
   */
  constructor(message: string, busy: boolean, options?: ErrorOptions) {
    super(message, options);
    this.busy = busy;
  }
}

/**
 * `listenIpc()` found its address taken: a live server already listens on the
 * Unix socket path (it is never replaced; only a stale socket file left by a
 * dead server is), or the TCP port is in use.
 *
 * @example One daemon at a time
 * ```ts ignore
 * import { IpcAddressInUseError, listenIpc } from "@tether/ipc";
 *
 * try {
 *   await using listener = await listenIpc({ path: "/run/user/1000/app/app.sock" });
 *   for await (const client of listener) client.close();
 * } catch (error) {
 *   if (error instanceof IpcAddressInUseError) console.error("already running");
 *   else throw error;
 * }
 * ```
 */
export class IpcAddressInUseError extends IpcError {}

// ---- Calls over NATS ----

/**
 * No worker serves the method called: the NATS server answered at once that
 * nothing listens on the method's subject. It comes fast, not after the
 * call's timeout. The call was not handled anywhere.
 *
 * @example Tell "nobody serves this" from a slow worker
 * ```ts ignore
 * import { connectNatsCalls, IpcNoRespondersError } from "@tether/ipc/nats";
 *
 * await using calls = await connectNatsCalls({ servers: "nats://127.0.0.1:4222", service: "math" });
 * try {
 *   await calls.request("fib", { n: 20 });
 * } catch (error) {
 *   if (error instanceof IpcNoRespondersError) console.error(`start a worker for ${error.subject}`);
 *   else throw error;
 * }
 * ```
 */
export class IpcNoRespondersError extends IpcError {
  /** The method that was called. */
  readonly method: string;
  /** The NATS subject nothing listens on. */
  readonly subject: string;

  /**
   * Creates the error.
   *
   * @param method The method called.
   * @param subject The subject the call was sent to.
   */
  constructor(method: string, subject: string) {
    super(
      `No worker serves "${method}": nothing listens on the NATS subject "${subject}". ` +
        `Start a worker with serveNatsCalls() for this service and method, ` +
        `or check the service's name and the method's spelling.`,
    );
    this.method = method;
    this.subject = subject;
  }
}
