/**
 * {@linkcode IpcNetStream}: a channel over a network connection, which knows
 * the addresses of its two ends.
 *
 * @module
 */

import { IpcJsonStream } from "../channel/ipc_json_stream.ts";
import type { IpcJsonStreamOptions } from "../channel/options.ts";
import type { IpcTransport } from "../transports/transport.ts";

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
