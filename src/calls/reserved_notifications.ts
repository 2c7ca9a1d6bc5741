/**
 * {@linkcode ReservedNotifications}: the listeners of the notifications of
 * reserved `$/` methods (other than `$/cancelRequest`, which the call layer
 * handles itself), such as `$/cancelProcess`.
 *
 * @module
 */

/** How a layer listens for `method` on a channel; returns how to stop. */
export type ListenReserved<Channel> = (
  channel: Channel,
  method: string,
  listener: (params: unknown) => void,
) => () => void;

/** At most this many methods' notifications wait for a listener. */
const MAX_UNHEARD = 16;

/**
 * One listener per reserved method. A notification nobody listens for yet
 * is kept (the last one per method, for a few methods) and replayed to the
 * first listener, so a child that asks for its cancel signal late still
 * sees a cancel that came early. Unknown `$/` notifications are otherwise
 * ignored, as the Language Server Protocol says.
 */
export class ReservedNotifications {
  #listeners = new Map<string, (params: unknown) => void>();
  #unheard = new Map<string, unknown>();

  /** A notification of `method` arrived. */
  notify(method: string, params: unknown): void {
    const listener = this.#listeners.get(method);
    if (listener !== undefined) listener(params);
    else if (this.#unheard.has(method) || this.#unheard.size < MAX_UNHEARD) {
      this.#unheard.set(method, params);
    }
  }

  /**
   * Listens for `method`, replacing any earlier listener.
   *
   * @returns A function that stops listening.
   */
  listen(method: string, listener: (params: unknown) => void): () => void {
    this.#listeners.set(method, listener);
    if (this.#unheard.has(method)) {
      const params = this.#unheard.get(method);
      this.#unheard.delete(method);
      listener(params);
    }
    return () => {
      if (this.#listeners.get(method) === listener) {
        this.#listeners.delete(method);
      }
    };
  }
}
