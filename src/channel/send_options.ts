/**
 * The options of `IpcJsonStream.send()`, and what they make of a message.
 *
 * @module
 */

import type {
  IpcMessageTransport,
  IpcTransport,
} from "../transports/transport.ts";
import { TransferringMessage } from "../transports/transfer.ts";

/**
 * Options of {@linkcode IpcJsonStream.send}.
 *
 * @example Move a large buffer to a worker instead of copying it
 * ```ts ignore
 * import { spawnWorkerWithIpc, type IpcSendOptions } from "@tether/ipc";
 *
 * await using worker = spawnWorkerWithIpc(new URL("./worker.ts", import.meta.url));
 * const pixels = new Uint8Array(16 * 1024 * 1024);
 * const options: IpcSendOptions = { transfer: [pixels.buffer] };
 * await worker.ipc.send({ pixels }, options); // pixels.byteLength is now 0 here
 * ```
 */
export interface IpcSendOptions {
  /**
   * `ArrayBuffer`s (and other transferables) the message holds that move
   * to the peer instead of being copied: on a channel to a Worker, the
   * sender's buffers are detached once sent. Transports that carry bytes
   * (processes, sockets) copy the message as usual and leave them intact.
   *
   * @default {[]}
   */
  transfer?: readonly Transferable[];
}

/**
 * What the send queue gets for `message`: the message, or the message with
 * its transfer list when the transport can transfer.
 */
export function outgoingMessage(
  transport: IpcTransport | IpcMessageTransport,
  message: unknown,
  options: IpcSendOptions | undefined,
): unknown {
  const transfer = options?.transfer;
  if (
    transfer === undefined || transfer.length === 0 ||
    transport.carriesMessages !== true || transport.transfers !== true
  ) {
    return message;
  }
  return new TransferringMessage(message, transfer);
}
