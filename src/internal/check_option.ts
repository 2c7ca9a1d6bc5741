/**
 * Checking option values, the same way everywhere: a value of the wrong type
 * is a `TypeError`, a value of the right type out of range a `RangeError`,
 * and both name the option and its owner.
 *
 * @module
 */

/**
 * An option that must be an integer of at least `min`, or its default.
 *
 * @param owner What the option belongs to, e.g. `"IpcPool"`.
 * @param name The option's name.
 * @param value The value given.
 * @param fallback The default, when `value` is `undefined`.
 * @param min The smallest value allowed.
 * @throws {TypeError} When `value` is not a number.
 * @throws {RangeError} When it is not an integer of at least `min`.
 */
export function integerOption(
  owner: string,
  name: string,
  value: unknown,
  fallback: number,
  min = 1,
): number {
  if (value === undefined) return fallback;
  requireNumber(owner, name, value);
  if (!Number.isSafeInteger(value) || value < min) {
    const wanted = min === 1
      ? "a positive integer"
      : `an integer of at least ${min}`;
    throw new RangeError(
      `${owner} option ${name} must be ${wanted}, got ${value}.`,
    );
  }
  return value;
}

/**
 * An option that must be a positive integer or `Infinity` (no limit).
 *
 * @throws {TypeError} When `value` is not a number.
 * @throws {RangeError} When it is neither a positive integer nor `Infinity`.
 */
export function limitOption(
  owner: string,
  name: string,
  value: unknown,
  fallback: number,
  min = 1,
): number {
  if (value === Infinity) return Infinity;
  return integerOption(owner, name, value, fallback, min);
}

/**
 * An option that must be a positive number of milliseconds (`Infinity`
 * allowed where `infinite` is `true`), or its default.
 *
 * @throws {TypeError} When `value` is not a number.
 * @throws {RangeError} When it is not a positive number.
 */
export function durationOption(
  owner: string,
  name: string,
  value: unknown,
  fallback: number,
): number;
export function durationOption(
  owner: string,
  name: string,
  value: unknown,
  fallback?: number,
): number | undefined;
export function durationOption(
  owner: string,
  name: string,
  value: unknown,
  fallback?: number,
): number | undefined {
  if (value === undefined) return fallback;
  requireNumber(owner, name, value);
  if (!(value > 0)) {
    throw new RangeError(
      `${owner} option ${name} must be a positive number of milliseconds, got ${value}.`,
    );
  }
  return value;
}

/**
 * An option that must be one of `choices`, or its default.
 *
 * @throws {RangeError} When it is another value.
 */
export function choiceOption<const C extends string>(
  owner: string,
  name: string,
  value: unknown,
  choices: readonly C[],
  fallback: C,
): C {
  if (value === undefined) return fallback;
  if (!choices.includes(value as C)) {
    throw new RangeError(
      `${owner} option ${name} must be ${
        choices.map((choice) => JSON.stringify(choice)).join(" or ")
      }, got ${JSON.stringify(value)}.`,
    );
  }
  return value as C;
}

function requireNumber(
  owner: string,
  name: string,
  value: unknown,
): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(
      `${owner} option ${name} must be a number, got ${typeof value}.`,
    );
  }
}
