/**
 * {@linkcode HandshakeBudget}: how many connections a listener keeps in
 * their handshake at once, in all and per remote address, and which one it
 * drops to make room.
 *
 * @module
 */

/**
 * Which limit made a listener drop a handshake: see
 * {@linkcode IpcHandshakeDroppedError}.
 *
 * @example
 * ```ts
 * import type { IpcHandshakeLimit } from "@tether/ipc";
 *
 * const limit: IpcHandshakeLimit = "maxPendingHandshakesPerAddress";
 * ```
 */
export type IpcHandshakeLimit =
  | "maxPendingHandshakes"
  | "maxPendingHandshakesPerAddress";

/** A handshake dropped to make room, and the limit that was reached. */
export interface DroppedHandshake<K> {
  /** The connection dropped. */
  key: K;
  /** The limit that was reached. */
  limit: IpcHandshakeLimit;
  /** When it was admitted, from `performance.now()`. */
  since: number;
}

interface Entry {
  address: string | undefined;
  since: number;
}

/**
 * The connections in their handshake, oldest first. Admitting one past a
 * limit drops the oldest under that limit: a stalled connection has had its
 * chance, while a new one may be an honest client, and a flood of idle
 * connections then only ever evicts itself instead of locking everyone out.
 * The per-address limit comes first, so one address's flood drops only its
 * own handshakes.
 *
 * @typeParam K What identifies a connection.
 */
export class HandshakeBudget<K> {
  #entries = new Map<K, Entry>();
  #perAddress = new Map<string, number>();
  #total: number;
  #addressLimit: number;

  /**
   * @param total Most handshakes at once.
   * @param perAddress Most handshakes at once from one address.
   */
  constructor(total: number, perAddress: number) {
    this.#total = total;
    this.#addressLimit = perAddress;
  }

  /** Handshakes in progress. */
  get size(): number {
    return this.#entries.size;
  }

  /** The connections in their handshake, oldest first. */
  keys(): IterableIterator<K> {
    return this.#entries.keys();
  }

  /**
   * Admits `key`, dropping what must go to make room.
   *
   * @param key The new connection.
   * @param address Its remote address, or `undefined` where addresses do not
   *   tell clients apart (a Unix socket).
   * @returns The connections dropped, no longer counted: close them.
   */
  admit(key: K, address: string | undefined): DroppedHandshake<K>[] {
    const dropped: DroppedHandshake<K>[] = [];
    if (
      address !== undefined &&
      (this.#perAddress.get(address) ?? 0) >= this.#addressLimit
    ) {
      const oldest = this.#oldest(address);
      if (oldest !== undefined) {
        dropped.push(this.#drop(oldest, "maxPendingHandshakesPerAddress"));
      }
    }
    if (this.#entries.size >= this.#total) {
      const oldest = this.#oldest(undefined);
      if (oldest !== undefined) {
        dropped.push(this.#drop(oldest, "maxPendingHandshakes"));
      }
    }
    this.#entries.set(key, { address, since: performance.now() });
    if (address !== undefined) {
      this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
    }
    return dropped;
  }

  /** `key`'s handshake ended (either way); nothing when it was dropped. */
  release(key: K): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    const address = entry.address;
    if (address === undefined) return;
    const count = (this.#perAddress.get(address) ?? 1) - 1;
    if (count === 0) this.#perAddress.delete(address);
    else this.#perAddress.set(address, count);
  }

  /** The oldest entry, of `address` when given. */
  #oldest(address: string | undefined): K | undefined {
    for (const [key, entry] of this.#entries) {
      if (address === undefined || entry.address === address) return key;
    }
    return undefined;
  }

  #drop(key: K, limit: IpcHandshakeLimit): DroppedHandshake<K> {
    const since = this.#entries.get(key)!.since;
    this.release(key);
    return { key, limit, since };
  }
}
