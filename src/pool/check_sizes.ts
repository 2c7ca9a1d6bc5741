/**
 * {@linkcode checkSizes}: the number of children of an `IpcPool` — `size`,
 * or `minSize` and `maxSize` — checked, with their defaults.
 *
 * @module
 */

import { integerOption } from "../internal/check_option.ts";
import type { IpcPoolOptions } from "./options.ts";

/** `size`, or `minSize` and `maxSize`, with their defaults; see {@linkcode IpcPoolOptions}. */
export function checkSizes(
  options: Pick<IpcPoolOptions, "size" | "minSize" | "maxSize">,
): { minSize: number; maxSize: number } {
  const owner = "IpcPool";
  if (
    options.size !== undefined &&
    (options.minSize !== undefined || options.maxSize !== undefined)
  ) {
    throw new TypeError(
      "IpcPool options size and minSize/maxSize exclude each other: size is a fixed pool (minSize = maxSize = size). Give one or the other.",
    );
  }
  const cores = navigator.hardwareConcurrency;
  if (options.minSize === undefined && options.maxSize === undefined) {
    const size = integerOption(owner, "size", options.size, cores);
    return { minSize: size, maxSize: size };
  }
  const minSize = integerOption(owner, "minSize", options.minSize, 1, 0);
  const maxSize = integerOption(
    owner,
    "maxSize",
    options.maxSize,
    Math.max(minSize, cores, 1),
  );
  if (minSize > maxSize) {
    throw new RangeError(
      `IpcPool option minSize (${minSize}) is above maxSize (${maxSize}): minSize must be at most maxSize.`,
    );
  }
  return { minSize, maxSize };
}
