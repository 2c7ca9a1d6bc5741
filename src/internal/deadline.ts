/**
 * {@linkcode settlesWithin}: waiting for something, but not for ever.
 *
 * @module
 */

/**
 * Waits until `promise` settles or `ms` milliseconds pass, whichever comes
 * first. The timer is cleared as soon as the race is decided, so it never
 * keeps the process alive longer than the wait itself; a rejection counts as
 * settling and is not rethrown.
 *
 * @param promise What to wait for.
 * @param ms The longest wait, in milliseconds.
 * @returns `true` when `promise` settled in time, `false` when time ran out.
 */
export function settlesWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const settled = () => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(settled, settled);
  });
}
