/**
 * {@linkcode TransferringMessage}: a message with the objects its sender gives
 * away, on its way to a transport that can transfer them (a Worker's port).
 *
 * @module
 */

/**
 * A message sent with `send(message, { transfer })` over a transport whose
 * `transfers` is `true`: the transport posts `message` with `transfer` as
 * its transfer list, so the buffers move instead of being copied.
 */
export class TransferringMessage {
  /** The message itself. */
  message: unknown;
  /** What is transferred: `ArrayBuffer`s, `MessagePort`s. */
  transfer: readonly Transferable[];

  /**
   * @param message The message.
   * @param transfer What its sender gives away.
   */
  constructor(message: unknown, transfer: readonly Transferable[]) {
    this.message = message;
    this.transfer = transfer;
  }
}

/**
 * Moves the buffers of `outgoing` at once (into new ones, without copying):
 * once `send()` returns, the sender's buffers are detached, whenever the
 * post happens, as a byte transport encodes a message at once.
 *
 * @throws {TypeError} When a buffer was transferred already.
 */
export function moveTransfer(outgoing: TransferringMessage): void {
  for (const item of outgoing.transfer) {
    if (item instanceof ArrayBuffer && item.detached) {
      throw new TypeError(
        "Cannot transfer a detached ArrayBuffer: it was transferred already.",
      );
    }
  }
  const moved = structuredClone(
    { message: outgoing.message, transfer: outgoing.transfer },
    { transfer: outgoing.transfer as Transferable[] },
  );
  outgoing.message = moved.message;
  outgoing.transfer = moved.transfer;
}
