/**
 * {@linkcode deferredCallStream}: a streaming call that starts once a
 * connection is there.
 *
 * @module
 */

import type { IpcCallStream } from "../calls/streams.ts";

const DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
});

/**
 * A stream whose call is made by `open()` at the first `next()`; `guard`
 * turns each item's failure into what the caller should see.
 */
export function deferredCallStream<T, R>(
  open: () => Promise<IpcCallStream<T, R>>,
  guard: (next: Promise<IteratorResult<T, R | undefined>>) => Promise<
    IteratorResult<T, R | undefined>
  >,
): IpcCallStream<T, R> {
  let inner: Promise<IpcCallStream<T, R>> | undefined;
  let returned = false;
  const stream: IpcCallStream<T, R> = {
    next: async () => {
      if (returned) return DONE;
      inner ??= open();
      return await guard((await inner).next());
    },
    return: async () => {
      returned = true;
      if (inner === undefined) return DONE;
      const items = await inner.catch(() => undefined);
      return items === undefined ? DONE : await items.return();
    },
    [Symbol.asyncIterator]: () => stream,
  };
  return stream;
}
