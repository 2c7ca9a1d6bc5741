/**
 * {@linkcode IpcNetStream}: a channel over a network connection, which knows
 * the addresses of its two ends, and {@linkcode HeartbeatTransport}, its
 * heartbeat. The heartbeat notices a peer that went silent (stopped, hung, a
 * machine switched off, a cut network) and tells which sends the peer's
 * program has taken.
 *
 * Four signals, chosen so that a peer that does not know them skips them
 * (`docs/protocol.md#the-heartbeat`): with `"json"`, lines of one to four
 * tabs (blank lines, which every reader of the format ignores); with
 * `"advanced"`, a frame header announcing 2^32 − 1 to 2^32 − 4 bytes, with
 * no payload. They are queued like messages, so they always fall between two.
 *
 * - ping (1): "are you there?"; every end answers at once with a pong.
 * - pong (2): "here"; also sent, unasked, every second by an end that was
 *   pinged while its reading is paused (its program is behind).
 * - ack request (3): "tell me when your program has taken everything I sent
 *   before this"; answered with an ack (4) then, in order.
 *
 * An end with a heartbeat pings when nothing arrived for an interval and,
 * once the peer has answered (a pong or an ack), takes nothing at all for
 * two intervals as the peer being gone.
 *
 * @module
 */

import { CONTROLS, IpcJsonStream } from "../channel/ipc_json_stream.ts";
import type { IpcJsonStreamOptions } from "../channel/options.ts";
import { DenoConnTransport } from "../transports/deno_conn.ts";
import type {
  IpcTransport,
  IpcTransportSink,
} from "../transports/transport.ts";

/**
 * The channels of {@linkcode listenIpc} and {@linkcode connectIpc}: an
 * {@linkcode IpcJsonStream} that also tells where its peer is, for logs and
 * decisions (e.g. which clients to trust with what).
 *
 * @typeParam In The type of the messages received.
 * @typeParam Out The type of the messages sent.
 *
 * @example Log where each client comes from
 * ```ts ignore
 * import { listenIpc } from "@tether/ipc";
 *
 * const listener = await listenIpc({ port: 7000, authKey: Deno.readFileSync("ipc.key") });
 * for await (const client of listener) {
 *   const from = client.remoteAddr;
 *   console.log("client from", from.transport === "tcp" ? `${from.hostname}:${from.port}` : "a Unix socket");
 * }
 * ```
 */
export class IpcNetStream<In = unknown, Out = unknown>
  extends IpcJsonStream<In, Out> {
  /**
   * The peer's address: for TCP and TLS its host and port; for a Unix
   * socket `{ transport: "unix", path }`, where the path of a client is
   * usually empty (clients rarely bind their socket to a name).
   */
  readonly remoteAddr: Deno.Addr;
  /** This end's address: the listener's, or the port the client got. */
  readonly localAddr: Deno.Addr;

  /**
   * Creates the channel; {@linkcode listenIpc} and {@linkcode connectIpc}
   * do it for you.
   *
   * @param transport The transport over `conn`.
   * @param options The channel's options.
   * @param conn The connection, for its addresses.
   */
  constructor(
    transport: IpcTransport,
    options: IpcJsonStreamOptions<In>,
    conn: Deno.Conn,
  ) {
    super(transport, options);
    this.remoteAddr = conn.remoteAddr;
    this.localAddr = conn.localAddr;
  }
}

/** A channel on a connection, with its heartbeat. */
export interface NetConnection<In, Out> {
  /** The channel. */
  stream: IpcNetStream<In, Out>;
  /** Its heartbeat, between the channel and the connection. */
  heartbeat: HeartbeatTransport;
  /** The connection's own transport. */
  transport: DenoConnTransport;
}

/**
 * Opens the channel on `conn` once the handshake is done: the connection's
 * transport, the heartbeat around it (which answers the peer's pings; with
 * `intervalMs`, also watches the peer), and the channel on top.
 *
 * @param conn The connection, now owned by the channel.
 * @param options The channel's options.
 * @param intervalMs The heartbeat's interval; `0` for none.
 * @param peer The peer, as errors name it.
 */
export function openNetStream<In, Out>(
  conn: Deno.Conn,
  options: IpcJsonStreamOptions<In>,
  intervalMs: number,
  peer: string,
): NetConnection<In, Out> {
  const transport = new DenoConnTransport(conn);
  const heartbeat = new HeartbeatTransport(transport, intervalMs, peer);
  const stream = new IpcNetStream<In, Out>(heartbeat, options, conn);
  // Before the first read: reading starts in a later task.
  const controls = stream[CONTROLS]();
  controls.listenControl((signal) => heartbeat.signalled(signal));
  heartbeat.bind({
    afterTaken: (callback) => controls.afterReceivedTaken(callback),
    send: (signal) => controls.sendSignal(signal),
  });
  return { stream, heartbeat, transport };
}

/** Default `heartbeat.interval`, in milliseconds. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5_000;
/**
 * While its program is behind (reading paused), an end that was pinged says
 * it is there this often, so that its peer does not take it for gone.
 */
const HERE_EVERY_MS = 1_000;
/**
 * Most ack requests under way. They are spread over the sends not yet
 * acknowledged, so that the acknowledgements trail what the peer's program
 * took by about an eighth of what is in flight.
 */
const MAX_ACK_REQUESTS = 8;
/** Silent ticks (half an interval each) before a ping, and before giving up. */
const PING_AFTER_TICKS = 2;
const GONE_AFTER_TICKS = 4;

/** The signals, numbered as `MessageDecoder.onControl` reports them. */
const Signal = { ping: 1, pong: 2, ackRequest: 3, ack: 4 } as const;

/**
 * Checks the `heartbeat` option.
 *
 * @param owner `"listenIpc"` or `"connectIpc"`, for errors.
 * @param option The option as given.
 * @param onByDefault Whether a missing option means on.
 * @returns The interval in milliseconds; `0` for off.
 */
export function heartbeatIntervalOf(
  owner: string,
  option: unknown,
  onByDefault: boolean,
): number {
  if (option === undefined) {
    return onByDefault ? DEFAULT_HEARTBEAT_INTERVAL_MS : 0;
  }
  if (option === false) return 0;
  if (option === true) return DEFAULT_HEARTBEAT_INTERVAL_MS;
  if (typeof option !== "object" || option === null) {
    throw new TypeError(
      `${owner} option heartbeat must be true, false or { interval }, got ${typeof option}.`,
    );
  }
  const interval = (option as { interval?: unknown }).interval;
  if (interval === undefined) return DEFAULT_HEARTBEAT_INTERVAL_MS;
  if (typeof interval !== "number") {
    throw new TypeError(
      `${owner} option heartbeat.interval must be a number, got ${typeof interval}.`,
    );
  }
  if (!Number.isSafeInteger(interval) || interval < 0) {
    throw new RangeError(
      `${owner} option heartbeat.interval must be a whole number of milliseconds (0 turns the heartbeat off), got ${interval}.`,
    );
  }
  return interval;
}

/** What the heartbeat needs of the channel on top of it. */
export interface HeartbeatChannel {
  /** Calls back once the program has taken every message received so far. */
  afterTaken(callback: () => void): void;
  /** Sends a signal after everything sent so far. */
  send(signal: number): void;
}

type Timer = ReturnType<typeof setTimeout>;

/**
 * An {@linkcode IpcTransport} around the connection's own: it sees every
 * byte that arrives (a sign of life) and whether the channel paused
 * reading; the channel's decoder hands it the signals (`signalled()`).
 */
export class HeartbeatTransport implements IpcTransport {
  readonly reusesReadBuffer: boolean;
  #inner: IpcTransport;
  #intervalMs: number;
  #peer: string;
  #sink: IpcTransportSink | undefined;
  #channel: HeartbeatChannel | undefined;
  /** Closed, destroyed, ended or failed: no more signals. */
  #stopped = false;
  #failure: Error | undefined;

  // Liveness.
  #ticker: Timer | undefined;
  #heard = false;
  #silentTicks = 0;
  /** The channel paused reading (its receive buffer is full): silence is ours. */
  #paused = false;
  /** The peer answered, so it knows the heartbeat. */
  #answering = false;
  /** The peer runs a heartbeat: while paused, tell it this end is there. */
  #pinged = false;
  #hereTimer: Timer | undefined;

  // Acknowledgements of sends.
  #resolved: (() => number) | undefined;
  #acknowledged = 0;
  /** The marks of the ack requests awaiting their ack, in order. */
  #ackMarks: number[] = [];

  /**
   * @param inner The connection's transport, now owned by this one.
   * @param intervalMs Milliseconds between checks; `0`: only answer the peer.
   * @param peer The peer, as errors name it: `the server at …`.
   */
  constructor(inner: IpcTransport, intervalMs: number, peer: string) {
    this.#inner = inner;
    this.reusesReadBuffer = inner.reusesReadBuffer;
    this.#intervalMs = intervalMs;
    this.#peer = peer;
  }

  /** Why the heartbeat ended the connection, if it did. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /**
   * The highest count of `trackAcks()`'s sends the peer acknowledged: its
   * program took every one of them.
   */
  get acknowledged(): number {
    return this.#acknowledged;
  }

  /** The channel on top, once made: the heartbeat starts. */
  bind(channel: HeartbeatChannel): void {
    this.#channel = channel;
    if (this.#intervalMs <= 0 || this.#stopped) return;
    this.#ticker = setInterval(this.#tick, this.#intervalMs / 2);
    unrefTimer(this.#ticker);
    // At once: a peer that answers is watched from now on.
    this.#send(Signal.ping);
  }

  /**
   * Asks the peer to acknowledge sends, counted by `resolved()`: once the
   * peer has answered, `sent()` queues ack requests after them (a few at a
   * time, spread over those not yet acknowledged).
   */
  trackAcks(resolved: () => number): void {
    this.#resolved = resolved;
  }

  /** A send resolved: ask for an acknowledgement unless one is under way. */
  sent(): void {
    this.#requestAck();
  }

  /** The channel's decoder found a signal. */
  signalled(signal: number): void {
    switch (signal) {
      case Signal.ping:
        this.#pinged = true;
        this.#send(Signal.pong);
        break;
      case Signal.pong:
        this.#answering = true;
        this.#requestAck();
        break;
      case Signal.ackRequest: {
        this.#pinged = true;
        // A task later, so that the program ran what it does on taking it.
        const ack = () => setTimeout(() => this.#send(Signal.ack), 0);
        if (this.#channel === undefined) ack();
        else this.#channel.afterTaken(ack);
        break;
      }
      case Signal.ack: {
        this.#answering = true;
        const mark = this.#ackMarks.shift();
        if (mark !== undefined) {
          this.#acknowledged = Math.max(this.#acknowledged, mark);
          this.#requestAck();
        }
        break;
      }
        // Other signals are reserved: ignored.
    }
  }

  start(sink: IpcTransportSink): void {
    this.#sink = sink;
    this.#inner.start({
      data: (bytes) => {
        this.#heard = true;
        const more = sink.data(bytes);
        if (!more && !this.#paused) this.#pause();
        return more;
      },
      end: (reason) => {
        if (this.#failure !== undefined) return;
        this.#stop();
        sink.end(reason);
      },
      error: (error) => {
        if (this.#failure !== undefined) return;
        this.#stop();
        sink.error(error);
      },
    });
  }

  resume(): void {
    this.#paused = false;
    clearInterval(this.#hereTimer);
    this.#hereTimer = undefined;
    this.#inner.resume();
  }

  write(data: string | Uint8Array, done: (error?: Error) => void): void {
    this.#inner.write(data, done);
  }

  close(): Promise<void> {
    this.#stop();
    return this.#inner.close();
  }

  destroy(): void {
    this.#stop();
    this.#inner.destroy();
  }

  ref(): void {
    this.#inner.ref();
  }

  unref(): void {
    this.#inner.unref();
  }

  #tick = (): void => {
    if (this.#heard || this.#paused) {
      this.#heard = false;
      this.#silentTicks = 0;
      return;
    }
    this.#silentTicks++;
    if (this.#answering && this.#silentTicks >= GONE_AFTER_TICKS) {
      this.#fail();
    } else if (this.#silentTicks % PING_AFTER_TICKS === 0) {
      this.#send(Signal.ping);
    }
  };

  /** Requests an acknowledgement of the sends resolved until now, if due. */
  #requestAck(): void {
    const marks = this.#ackMarks;
    if (marks.length >= MAX_ACK_REQUESTS) return;
    const resolved = this.#resolved;
    if (resolved === undefined || !this.#answering || this.#stopped) return;
    const mark = resolved();
    const last = marks.at(-1) ?? this.#acknowledged;
    const step = Math.max(
      1,
      Math.floor((mark - this.#acknowledged) / MAX_ACK_REQUESTS),
    );
    if (mark - last < (marks.length === 0 ? 1 : step)) return;
    // Every send counted in `mark` was queued before the request.
    marks.push(mark);
    this.#send(Signal.ackRequest);
  }

  #send(signal: number): void {
    if (!this.#stopped) this.#channel?.send(signal);
  }

  #pause(): void {
    this.#paused = true;
    if (!this.#pinged || this.#stopped || this.#hereTimer !== undefined) {
      return;
    }
    this.#hereTimer = setInterval(() => this.#send(Signal.pong), HERE_EVERY_MS);
    unrefTimer(this.#hereTimer);
  }

  #fail(): void {
    const interval = this.#intervalMs;
    this.#failure = new Error(
      `no sign of life from ${this.#peer} for ${
        GONE_AFTER_TICKS * interval / 2
      } ms although it was pinged (heartbeat every ${interval} ms): ` +
        "it is stopped, hung or unreachable",
    );
    this.#stop();
    this.#sink!.end(this.#failure);
  }

  #stop(): void {
    this.#stopped = true;
    clearInterval(this.#hereTimer);
    clearInterval(this.#ticker);
    this.#hereTimer = undefined;
    this.#ticker = undefined;
  }
}

/** Lets the process exit while `timer` waits (a number, or Node's Timeout object). */
function unrefTimer(timer: Timer): void {
  const handle = timer as unknown as number | { unref(): void };
  if (typeof handle === "number") Deno.unrefTimer(handle);
  else handle.unref();
}
