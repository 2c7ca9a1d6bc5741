/**
 * The options of an {@linkcode IpcJsonStream}, their defaults, and their
 * checks.
 *
 * @module
 */

import { advancedCodec } from "../codec/advanced.ts";
import type { Codec, IpcSerialization } from "../codec/codec.ts";
import { jsonCodec } from "../codec/json.ts";
import {
  choiceOption,
  integerOption,
  limitOption,
} from "../internal/check_option.ts";
import type { IpcValidationError } from "../errors.ts";
import type { IpcTraceEvent } from "./trace.ts";
import type { IpcMessageValidator } from "./validation.ts";

/**
 * Default of {@linkcode IpcJsonStreamOptions.maxMessageBytes}: 128 MiB.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 128 * 1024 * 1024;
/**
 * Default of {@linkcode IpcJsonStreamOptions.sendBufferBytes}: 1 MiB.
 */
export const DEFAULT_SEND_BUFFER_BYTES = 1024 * 1024;
/**
 * Default of {@linkcode IpcJsonStreamOptions.receiveBufferBytes}: 1 MiB.
 */
export const DEFAULT_RECEIVE_BUFFER_BYTES = 1024 * 1024;

/**
 * Default of {@linkcode IpcJsonStreamOptions.maxConcurrentCalls}: 256.
 */
export const DEFAULT_MAX_CONCURRENT_CALLS = 256;

/** Options of an {@linkcode IpcJsonStream}. */
export interface IpcJsonStreamOptions<In = unknown> {
  /**
   * The wire format; both ends must use the same.
   *
   * - `"json"`: each message is `JSON.stringify(value)` and `"\n"`, Node's
   *   `"json"` IPC serialization. Any language can take part.
   * - `"advanced"`: each message is a 4-byte big-endian length and a V8
   *   serialization (`node:v8` `serialize`), Node's `"advanced"` IPC
   *   serialization: `Uint8Array`s and other typed arrays, `Date`, `Map`,
   *   `Set`, `BigInt`, `RegExp`, `Error`, `undefined` and cycles round-trip,
   *   and binary data moves without JSON's cost.
   *
   * @default {"json"}
   */
  serialization?: IpcSerialization;
  /**
   * Largest message this end sends or accepts: the UTF-8 bytes of its JSON
   * text with `"json"`, the bytes of its V8 payload with `"advanced"`.
   * `send()` refuses a larger message before writing anything; a larger
   * incoming message fails the channel with
   * {@linkcode IpcMessageTooLargeError} without buffering the rest of it.
   *
   * @default {134217728} (128 MiB)
   */
  maxMessageBytes?: number;
  /**
   * How many bytes of sent messages may wait in the queue, besides the one
   * write in progress, before `send()` returns a promise that waits for the
   * peer to read. This bounds the memory a slow reader can cost the sender.
   * With `"json"`, JSON text is counted in UTF-16 units (bytes for ASCII).
   *
   * @default {1048576} (1 MiB)
   */
  sendBufferBytes?: number;
  /**
   * How many bytes of received messages may wait, parsed, for the iterator
   * before reading from the peer pauses. This bounds the memory a slow
   * consumer costs the receiver; the peer's `send()` then waits in turn.
   * With `"json"`, JSON text is counted in UTF-16 units (bytes for ASCII).
   *
   * @default {1048576} (1 MiB)
   */
  receiveBufferBytes?: number;
  /**
   * What happens when `receiveBufferBytes` of plain messages wait unread.
   * Calls, answers and cancellations are never queued with them: they are
   * taken out as they are parsed.
   *
   * - `"pause"`: reading from the peer pauses until the iterator takes
   *   the queue down to half; the peer's `send()` waits meanwhile. Nothing
   *   is lost, but answers to this end's calls wait behind the unread
   *   messages: read them, or a call may time out (its
   *   {@linkcode IpcTimeoutError} then says so, `receiveBufferFull`).
   * - `"drop"`: reading goes on and plain messages that arrive while the
   *   queue is full are dropped, counted in `stats().messagesDropped`.
   *   Answers never wait; use it when plain messages are expendable (logs,
   *   progress) or nobody reads them.
   *
   * `"pause"` is the default because it loses nothing: a channel is a
   * stream first, and dropping data silently would be the worse surprise.
   *
   * @default {"pause"}
   */
  receiveOverflow?: "pause" | "drop";
  /**
   * Most calls from the peer whose handlers run at once. Requests past it
   * wait, parsed, in arrival order; when more than `receiveBufferBytes` of
   * them wait, reading from the peer pauses (the peer's `send()` waits)
   * until they are down to half. So a peer, however many calls it sends,
   * costs bounded memory. A call counts until its answer is handed to the
   * channel, so a peer that does not read its answers is held back too.
   * `Infinity` removes the limit.
   *
   * @default {256}
   */
  maxConcurrentCalls?: number;
  /**
   * Checks each received message: a Standard Schema object (zod, valibot,
   * arktype, … — anything with `~standard.validate`, synchronous) or a
   * function returning `true` for a valid message. A schema's output (e.g.
   * with defaults applied) is what the iterator yields.
   */
  validate?: IpcMessageValidator<In>;
  /**
   * What happens to a message that fails `validate`:
   *
   * - `"throw"`: the iterator throws an {@linkcode IpcValidationError} in
   *   its place; the channel stays open, and iterating again goes on with
   *   the next message.
   * - a function: the message is skipped and the function is called with
   *   the error, to report it.
   *
   * @default {"throw"}
   */
  onInvalidMessage?: "throw" | ((error: IpcValidationError) => void);
  /**
   * Drops Node's internal messages (objects whose `cmd` starts with
   * `"NODE_"`), as the IPC channel of a Node.js process does, instead of
   * delivering them. Given to `spawnWithIpc()`, it also lets an unmodified
   * Node.js, Bun or Deno child use `process.send()`, `process.on("message")`
   * and `process.disconnect()`: it sets `NODE_CHANNEL_FD` (and
   * `NODE_CHANNEL_SERIALIZATION_MODE` to the `serialization`) in the child's
   * environment. A Deno child can still call `connectParentIpc()`.
   *
   * @default {false}
   */
  nodeCompat?: boolean;
  /**
   * Called with every message sent and received, its JSON cut to 240
   * characters: for debugging. Without it, `TETHER_IPC_TRACE=1` in the
   * environment (read only if the process may, never prompting) writes the
   * same to standard error. Off, tracing costs nothing.
   *
   * @example Trace one child's channel to standard error
   * ```ts ignore
   * import { spawnWithIpc } from "@tether/ipc";
   *
   * await using child = spawnWithIpc(Deno.execPath(), {
   *   args: ["run", "child.ts"],
   *   trace: ({ direction, text }) => console.error(direction === "out" ? "→" : "←", text),
   * });
   * ```
   */
  trace?: (event: IpcTraceEvent) => void;
}

/** Every option of a channel, named once: what spawn, pool, worker, listen and connect pass on. */
const CHANNEL_OPTION_KEYS = Object.keys(
  {
    serialization: true,
    maxMessageBytes: true,
    sendBufferBytes: true,
    receiveBufferBytes: true,
    receiveOverflow: true,
    maxConcurrentCalls: true,
    validate: true,
    onInvalidMessage: true,
    nodeCompat: true,
    trace: true,
  } satisfies Record<keyof IpcJsonStreamOptions, true>,
) as (keyof IpcJsonStreamOptions)[];

/**
 * The channel's options among `options`, which may hold others (a
 * listener's, a pool's): all of them, or only `keys`.
 */
export function channelOptionsOf<In>(
  options: IpcJsonStreamOptions<In>,
  keys: readonly (keyof IpcJsonStreamOptions)[] = CHANNEL_OPTION_KEYS,
): IpcJsonStreamOptions<In> {
  const picked: Record<string, unknown> = {};
  for (const key of keys) {
    if (options[key] !== undefined) picked[key] = options[key];
  }
  return picked as IpcJsonStreamOptions<In>;
}

/** The codec of each `serialization`: the one place that picks it by name. */
const CODECS: Record<IpcSerialization, Codec> = {
  json: jsonCodec,
  advanced: advancedCodec,
};

/** The options of a stream, checked, with the defaults applied. */
export interface StreamSettings {
  /** The codec of the `serialization` option. */
  codec: Codec;
  /** `maxMessageBytes`. */
  maxMessageBytes: number;
  /** `sendBufferBytes`. */
  sendBufferBytes: number;
  /** `receiveBufferBytes`. */
  receiveBufferBytes: number;
  /** `receiveOverflow`. */
  receiveOverflow: "pause" | "drop";
  /** `maxConcurrentCalls`. */
  maxConcurrentCalls: number;
}

/**
 * Checks the values of stream options and applies the defaults; a channel
 * that connects first calls it before connecting, to refuse bad options
 * early.
 *
 * @throws {RangeError} For a size that is not a positive integer or an
 *   unknown serialization.
 * @throws {TypeError} For a size that is not a number.
 */
export function checkStreamOptions(
  options: IpcJsonStreamOptions<unknown>,
): StreamSettings {
  const owner = "IpcJsonStream";
  return {
    codec: CODECS[
      choiceOption(
        owner,
        "serialization",
        options.serialization,
        ["json", "advanced"],
        "json",
      )
    ],
    maxMessageBytes: integerOption(
      owner,
      "maxMessageBytes",
      options.maxMessageBytes,
      DEFAULT_MAX_MESSAGE_BYTES,
    ),
    sendBufferBytes: integerOption(
      owner,
      "sendBufferBytes",
      options.sendBufferBytes,
      DEFAULT_SEND_BUFFER_BYTES,
    ),
    receiveBufferBytes: integerOption(
      owner,
      "receiveBufferBytes",
      options.receiveBufferBytes,
      DEFAULT_RECEIVE_BUFFER_BYTES,
    ),
    receiveOverflow: choiceOption(
      owner,
      "receiveOverflow",
      options.receiveOverflow,
      ["pause", "drop"],
      "pause",
    ),
    maxConcurrentCalls: limitOption(
      owner,
      "maxConcurrentCalls",
      options.maxConcurrentCalls,
      DEFAULT_MAX_CONCURRENT_CALLS,
    ),
  };
}
