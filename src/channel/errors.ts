/**
 * The errors of a channel, and the root of every error of this library:
 *
 * ```text
 * IpcError                      every error of this library
 * ├── IpcProtocolError          the peer sent bytes that are not a message
 * ├── IpcMessageTooLargeError   a message over maxMessageBytes, either way
 * ├── IpcValidationError        a message failed the validate option
 * └── IpcClosedError            the channel is closed
 * ```
 *
 * Each layer keeps its own errors in its `errors.ts`: `calls/`, `process/`,
 * `pool/` and `net/`. Each one says what happened and what to do about it;
 * the fields carry the details a program needs to react.
 *
 * @module
 */

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
