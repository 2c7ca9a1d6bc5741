/**
 * Opt-in tracing of every message a channel sends and receives, for
 * debugging: the `trace` option of a stream, or `TETHER_IPC_TRACE=1` in the
 * environment of a process allowed to read it. When neither is set the
 * stream holds no tracer and pays one `undefined` check per message sent.
 *
 * @module
 */

/** The environment variable that turns tracing to standard error on. */
export const TRACE_ENV = "TETHER_IPC_TRACE";

/** Traced messages are cut to this many characters. */
export const TRACE_TEXT_LIMIT = 240;

/**
 * One message sent or received, as given to the `trace` option.
 *
 * @example Log every message of a channel
 * ```ts
 * import { IpcJsonStream, type IpcTraceEvent } from "@tether/ipc";
 *
 * const seen: IpcTraceEvent[] = [];
 * const ipc = new IpcJsonStream(
 *   { readable: new Blob(['{"hello":1}\n']).stream(), writable: new WritableStream() },
 *   { trace: (event) => seen.push(event) },
 * );
 * await ipc.receive();
 * await ipc.send({ bye: true });
 * await ipc.close();
 * console.log(seen.map(({ direction, text }) => `${direction} ${text}`)); // ["in {\"hello\":1}", "out {\"bye\":true}"]
 * ```
 */
export interface IpcTraceEvent {
  /** `"out"` for a message written to the peer, `"in"` for one received. */
  direction: "in" | "out";
  /** The message's JSON, cut to 240 characters (then ending with `…`). */
  text: string;
  /** Length of the message's whole JSON, in characters. */
  length: number;
  /** `performance.now()` when the message was sent or received. */
  time: number;
}

/** A function given every traced message (the `trace` option). */
export type IpcTraceFunction = (event: IpcTraceEvent) => void;

/** What a stream calls when tracing is on. */
export interface Tracer {
  /** A message was queued to be written. */
  sent(message: unknown): void;
  /** A message was received. */
  received(message: unknown): void;
}

let environmentTracer: Tracer | null | undefined;

/**
 * The tracer of a new stream: the `trace` option if given, else one that
 * writes to standard error when `TETHER_IPC_TRACE=1` and the process may read
 * that variable (asked without ever prompting), else none.
 */
export function tracerFor(
  option: IpcTraceFunction | undefined,
): Tracer | undefined {
  if (option !== undefined) return functionTracer(option);
  environmentTracer ??= traceRequested() ? functionTracer(logToStderr) : null;
  return environmentTracer ?? undefined;
}

function traceRequested(): boolean {
  const permission = Deno.permissions.querySync({
    name: "env",
    variable: TRACE_ENV,
  });
  if (permission.state !== "granted") return false;
  const value = Deno.env.get(TRACE_ENV);
  return value === "1" || value === "true";
}

function functionTracer(option: IpcTraceFunction): Tracer {
  // A failing trace function must not break the channel it watches.
  const trace = (event: IpcTraceEvent) => {
    try {
      option(event);
    } catch (error) {
      console.error("tether/ipc: the trace function threw:", error);
    }
  };
  return {
    sent: (message) => trace(eventOf("out", textOf(message))),
    received: (message) => trace(eventOf("in", textOf(message))),
  };
}

/** The message as JSON; as text when JSON cannot carry it (advanced serialization). */
function textOf(message: unknown): string {
  try {
    return JSON.stringify(message) ?? String(message);
  } catch {
    return String(message);
  }
}

function eventOf(direction: "in" | "out", json: string): IpcTraceEvent {
  const text = json.length > TRACE_TEXT_LIMIT
    ? json.slice(0, TRACE_TEXT_LIMIT - 1) + "…"
    : json;
  return { direction, text, length: json.length, time: performance.now() };
}

function logToStderr(event: IpcTraceEvent): void {
  const arrow = event.direction === "out" ? "→" : "←";
  const size = event.text.length < event.length
    ? ` (${event.length} chars)`
    : "";
  console.error(`[tether/ipc ${Deno.pid}] ${arrow} ${event.text}${size}`);
}
