/**
 * {@linkcode IpcNetStream}: a channel over a network connection, which knows
 * the addresses of its two ends.
 *
 * @module
 */

import { CONTROLS, IpcJsonStream } from "../channel/ipc_json_stream.ts";
import type { IpcJsonStreamOptions } from "../channel/options.ts";
import { DenoConnTransport } from "../transports/deno_conn.ts";
import type { IpcTransport } from "../transports/transport.ts";
import { HeartbeatTransport } from "./heartbeat.ts";

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
