/**
 * {@linkcode ChildTransport}: the parent's end of a child's channel, which
 * reports how the child ended when the channel ends with it.
 *
 * @module
 */

import { settlesWithin } from "../internal/deadline.ts";
import type { NodeSocketTransport } from "../transports/node_socket.ts";
import type {
  IpcTransport,
  IpcTransportSink,
} from "../transports/transport.ts";
import { childEndedError } from "./errors.ts";
import type { IpcChildStatus } from "./stop_child.ts";

/**
 * When the channel ends before the child's exit is known, the end waits
 * this long for it. The exit is reported a few milliseconds after the end
 * of the channel; a child that closed its channel and runs on costs this
 * delay once.
 */
const EXIT_WAIT_MS = 1000;

/**
 * The socket transport of a child's channel. When the channel ends because
 * the child crashed or was killed (or exited leaving what it was sent
 * unread, which resets the connection), the channel is told so with an
 * `IpcChildExitedError` naming the exit code or signal, instead of
 * a bare "the peer closed it" or "read ECONNRESET".
 */
export class ChildTransport implements IpcTransport {
  /** The socket underneath, for the exit drain. */
  readonly socket: NodeSocketTransport;
  readonly reusesReadBuffer: boolean;
  #pid: number;
  #status: Promise<IpcChildStatus>;
  #ended: IpcChildStatus | undefined;
  #stderrHidden: boolean;

  /**
   * @param socket The parent's end of the socketpair.
   * @param pid The child's process id.
   * @param status Resolves when the child exits.
   * @param stderrHidden Whether the child's stderr is discarded.
   */
  constructor(
    socket: NodeSocketTransport,
    pid: number,
    status: Promise<IpcChildStatus>,
    stderrHidden: boolean,
  ) {
    this.#stderrHidden = stderrHidden;
    this.socket = socket;
    this.reusesReadBuffer = socket.reusesReadBuffer;
    this.#pid = pid;
    this.#status = status;
    status.then((ended) => this.#ended = ended);
  }

  start(sink: IpcTransportSink): void {
    this.socket.start({
      data: (bytes) => sink.data(bytes),
      end: () => this.#afterExit(sink, undefined),
      error: (error) => this.#afterExit(sink, error),
    });
  }

  resume(): void {
    this.socket.resume();
  }

  write(data: string | Uint8Array, done: (error?: Error) => void): void {
    this.socket.write(data, done);
  }

  writeAtExit(data: readonly (string | Uint8Array)[]): number | undefined {
    return this.socket.writeAtExit(data);
  }

  close(): Promise<void> {
    return this.socket.close();
  }

  destroy(): void {
    this.socket.destroy();
  }

  ref(): void {
    this.socket.ref();
  }

  unref(): void {
    this.socket.unref();
  }

  /** Ends the channel once the child's exit is known (or after a short wait). */
  #afterExit(sink: IpcTransportSink, error: Error | undefined): void {
    const report = () => {
      const ended = this.#ended;
      if (ended !== undefined && (!ended.success || error !== undefined)) {
        sink.end(
          childEndedError(this.#pid, ended, {
            cause: error,
            stderrHidden: this.#stderrHidden,
          }),
        );
      } else if (error !== undefined) {
        sink.error(error);
      } else {
        sink.end();
      }
    };
    if (this.#ended !== undefined) report();
    else settlesWithin(this.#status, EXIT_WAIT_MS).then(report);
  }
}
