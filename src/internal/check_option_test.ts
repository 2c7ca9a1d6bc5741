import assert from "node:assert/strict";
import {
  choiceOption,
  durationOption,
  integerOption,
  limitOption,
} from "./check_option.ts";

Deno.test("a value of the wrong type is a TypeError, one out of range a RangeError", () => {
  assert.equal(integerOption("X", "n", undefined, 7), 7);
  assert.equal(integerOption("X", "n", 3, 7), 3);
  assert.throws(() => integerOption("X", "n", "3", 7), TypeError);
  assert.throws(
    () => integerOption("X", "n", 0, 7),
    (error) =>
      error instanceof RangeError &&
      error.message === "X option n must be a positive integer, got 0.",
  );
  assert.throws(() => integerOption("X", "n", 1.5, 7), RangeError);
  assert.throws(() => integerOption("X", "n", -1, 7, 0), /at least 0/);
  assert.equal(limitOption("X", "n", Infinity, 7), Infinity);
  assert.throws(() => limitOption("X", "n", -Infinity, 7), RangeError);
  assert.equal(durationOption("X", "t", undefined), undefined);
  assert.equal(durationOption("X", "t", 0.5), 0.5);
  assert.equal(durationOption("X", "t", Infinity), Infinity);
  assert.throws(() => durationOption("X", "t", 0), RangeError);
  assert.throws(() => durationOption("X", "t", NaN), RangeError);
  assert.throws(() => durationOption("X", "t", "5"), TypeError);
  assert.equal(choiceOption("X", "c", undefined, ["a", "b"], "a"), "a");
  assert.throws(
    () => choiceOption("X", "c", "z", ["a", "b"], "a"),
    /X option c must be "a" or "b", got "z"/,
  );
});
