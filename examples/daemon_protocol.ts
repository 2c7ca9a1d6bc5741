/**
 * What `daemon.ts` and `daemon_client.ts` share: where the daemon lives and
 * the messages they exchange.
 *
 * @module
 */

/** The daemon's directory, unless `dir=...` is given: only its owner can enter it. */
export const DEFAULT_DIR = "/tmp/tether-ipc-demo";

/** The directory from a `dir=...` argument, or the default. */
export function demoDir(args: string[]): string {
  const given = args.find((arg) => arg.startsWith("dir="));
  return given === undefined ? DEFAULT_DIR : given.slice("dir=".length);
}

/** The daemon's socket in `dir`. */
export function socketPath(dir: string): string {
  return `${dir}/daemon.sock`;
}

/** The shared key in `dir`: made by the daemon, read by its clients. */
export function keyPath(dir: string): string {
  return `${dir}/daemon.key`;
}

/** From a client to the daemon. */
export type ClientMessage = { hello: string } | { add: number };

/** From the daemon to every client. */
export type DaemonMessage =
  | { welcome: string; clients: number }
  | { total: number; added: number; by: string };
