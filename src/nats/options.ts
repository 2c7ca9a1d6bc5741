/**
 * How both sides reach the NATS server: the connection options they share,
 * their checks, and opening the connection.
 *
 * @module
 */

import {
  type Authenticator,
  connect,
  type ConnectionOptions,
  type NatsConnection,
  nkeyAuthenticator,
} from "@nats-io/transport-node";

/**
 * TLS settings for the connection to the NATS server, passed to the NATS
 * client as they are. Files are read by the client (needs `--allow-read`).
 *
 * @example Verify the server with a private CA, and show a client certificate
 * ```ts
 * import type { IpcNatsTlsOptions } from "@tether/ipc/nats";
 *
 * const tls: IpcNatsTlsOptions = {
 *   caFile: "/etc/nats/ca.pem",
 *   certFile: "/etc/nats/client.pem",
 *   keyFile: "/etc/nats/client-key.pem",
 * };
 * console.log(Object.keys(tls).length); // 3
 * ```
 */
export interface IpcNatsTlsOptions {
  /** PEM file of the CA(s) the server's certificate must chain to. */
  caFile?: string;
  /** PEM text of the CA(s), instead of `caFile`. */
  ca?: string;
  /** PEM file of this client's certificate, for servers that verify clients. */
  certFile?: string;
  /** PEM text of this client's certificate, instead of `certFile`. */
  cert?: string;
  /** PEM file of this client's private key. */
  keyFile?: string;
  /** PEM text of this client's private key, instead of `keyFile`. */
  key?: string;
}

/**
 * A connection opened with the NATS client's `connect()`
 * (`npm:@nats-io/transport-node`): pass the `NatsConnection` itself. Only
 * the members named here are part of this library's API; it uses the
 * client's other members internally.
 *
 * @example Share one connection between a worker and a caller
 * ```ts ignore
 * import { connect } from "npm:@nats-io/transport-node@3.0.0-35";
 * import { connectNatsCalls, type IpcNatsConnection } from "@tether/ipc/nats";
 *
 * const connection: IpcNatsConnection = await connect({ servers: "nats://127.0.0.1:4222" });
 * await using calls = await connectNatsCalls({ connection, service: "math" });
 * ```
 */
export interface IpcNatsConnection {
  /** Whether the connection is closed. */
  isClosed(): boolean;
  /** Resolves when the connection closes (with an error if it failed). */
  closed(): Promise<void | Error>;
  /** Drains the subscriptions, then closes the connection. */
  drain(): Promise<void>;
  /** The URL of the server the connection is on now. */
  getServer(): string;
}

/**
 * Where the NATS server is and how to log in: either `servers` (and the
 * credentials), or a `connection` opened by the caller. Every mechanism is
 * NATS's own: TLS, user and password, token, NKEY. A connection opened from
 * `servers` reconnects for as long as the server is away.
 *
 * @example Connect with TLS and an NKEY
 * ```ts
 * import type { IpcNatsConnectOptions } from "@tether/ipc/nats";
 *
 * const options: IpcNatsConnectOptions = {
 *   servers: "tls://nats.internal:4222",
 *   tls: { caFile: "/etc/nats/ca.pem" },
 *   nkeySeed: Deno.env.get("NATS_NKEY_SEED"),
 * };
 * console.log(options.servers); // tls://nats.internal:4222
 * ```
 */
export interface IpcNatsConnectOptions {
  /**
   * The server(s) to connect to, e.g. `"nats://127.0.0.1:4222"`. Ignored
   * when `connection` is given.
   *
   * @default {"nats://127.0.0.1:4222"}
   */
  servers?: string | string[];
  /**
   * A connection already opened with the NATS client
   * (`connect()` of `npm:@nats-io/transport-node`). It is used as it is and
   * left open by `close()`/`stop()`: it is the caller's to close. Use it for
   * any client option not listed here (JWT credentials, reconnect policy).
   */
  connection?: IpcNatsConnection;
  /** TLS settings; a `tls://` server URL also asks for TLS. */
  tls?: IpcNatsTlsOptions;
  /** User name, with `pass`. */
  user?: string;
  /** Password, with `user`. */
  pass?: string;
  /** Token, for a server that authenticates with one. */
  token?: string;
  /**
   * The seed of an NKEY (`SU…`), for a server that authenticates NKEYs. The
   * seed stays in this process: only a signature of the server's nonce is
   * sent.
   */
  nkeySeed?: string;
  /** The connection's name, shown by the server's monitoring. */
  name?: string;
}

/** The options of {@linkcode IpcNatsConnectOptions} that go to the NATS client. */
export function clientOptions(
  owner: string,
  options: IpcNatsConnectOptions,
): ConnectionOptions {
  const { servers, tls, user, pass, token, nkeySeed, name } = options;
  if (servers !== undefined) {
    const list = Array.isArray(servers) ? servers : [servers];
    if (list.length === 0 || list.some((s) => typeof s !== "string")) {
      throw new TypeError(
        `${owner} option servers must be a server URL or a non-empty array of them, e.g. "nats://127.0.0.1:4222".`,
      );
    }
  }
  const result: ConnectionOptions = {
    servers: servers ?? "127.0.0.1:4222",
    // A worker or a caller outlives a server restart, however long it takes.
    maxReconnectAttempts: -1,
  };
  if (tls !== undefined) result.tls = { ...tls };
  if (user !== undefined) result.user = user;
  if (pass !== undefined) result.pass = pass;
  if (token !== undefined) result.token = token;
  if (name !== undefined) result.name = name;
  if (nkeySeed !== undefined) {
    if (typeof nkeySeed !== "string" || !nkeySeed.startsWith("S")) {
      throw new TypeError(
        `${owner} option nkeySeed must be an NKEY seed (text starting with "S", as "nk -gen user" prints).`,
      );
    }
    const authenticator: Authenticator = nkeyAuthenticator(
      new TextEncoder().encode(nkeySeed),
    );
    result.authenticator = authenticator;
  }
  return result;
}

/**
 * The connection to use: the one given, or a new one.
 *
 * @returns The connection, and whether this library opened it (and so
 *   closes it).
 */
export async function openConnection(
  owner: string,
  options: IpcNatsConnectOptions,
): Promise<{ connection: NatsConnection; owned: boolean }> {
  const given = options.connection;
  if (given !== undefined) {
    if (
      typeof given !== "object" || given === null ||
      typeof (given as Partial<NatsConnection>).subscribe !== "function"
    ) {
      throw new TypeError(
        `${owner} option connection must be a NatsConnection, as connect() of npm:@nats-io/transport-node returns.`,
      );
    }
    return { connection: given as NatsConnection, owned: false };
  }
  return {
    connection: await connect(clientOptions(owner, options)),
    owned: true,
  };
}

/** Names the NATS service framework accepts: letters, digits, `-` and `_`. */
const NAME = /^[-\w]+$/;

/**
 * Checks a service's or a method's name: it becomes a token of a NATS
 * subject, so it may only hold letters, digits, `-` and `_`.
 *
 * @throws {TypeError} When it is anything else.
 */
export function checkName(owner: string, what: string, name: unknown): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(
      `${owner}: the ${what} ${
        JSON.stringify(name)
      } cannot be used over NATS: ` +
        `use only letters, digits, "-" and "_" (it becomes part of a NATS subject).`,
    );
  }
  return name;
}

/**
 * The end of a caller's or a worker's use of its connection: `unsubscribe`
 * its own subscription, then close the connection when this library opened
 * it (draining what is queued), or only flush it when it is the user's.
 * Never throws: a connection that is down is closed as it is.
 */
export async function closeOrFlush(
  connection: NatsConnection,
  owned: boolean,
  unsubscribe: () => void,
): Promise<void> {
  if (connection.isClosed()) return;
  try {
    unsubscribe();
    if (owned) await connection.drain();
    else await connection.flush();
  } catch {
    // Disconnected: nothing can be flushed any more.
    if (owned) await connection.close().catch(() => {});
  }
}
