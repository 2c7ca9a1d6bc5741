/**
 * Checking received messages against a schema or a guard function.
 *
 * Schemas are taken through the Standard Schema interface (`~standard`),
 * which zod, valibot, arktype and others implement, so no validation library
 * is a dependency. The types below follow the published Standard Schema v1
 * specification, which invites libraries to copy them.
 *
 * @module
 */

import { IpcValidationError } from "../errors.ts";

/** The Standard Schema v1 interface: what a schema object must offer. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly "~standard": StandardSchemaV1.Props<Input, Output>;
}

/** Types of the Standard Schema v1 interface. */
export declare namespace StandardSchemaV1 {
  /** The properties under `~standard`. */
  export interface Props<Input = unknown, Output = Input> {
    /** The version of the interface: 1. */
    readonly version: 1;
    /** The library that made the schema. */
    readonly vendor: string;
    /** Validates a value. */
    readonly validate: (
      value: unknown,
    ) => Result<Output> | Promise<Result<Output>>;
    /** Type-level only: the input and output types. */
    readonly types?: Types<Input, Output> | undefined;
  }
  /** The result of `validate`. */
  export type Result<Output> = SuccessResult<Output> | FailureResult;
  /** A value that passed. */
  export interface SuccessResult<Output> {
    /** The validated (possibly transformed) value. */
    readonly value: Output;
    /** Absent on success. */
    readonly issues?: undefined;
  }
  /** A value that failed. */
  export interface FailureResult {
    /** What is wrong with it. */
    readonly issues: ReadonlyArray<Issue>;
  }
  /** One problem with a value. */
  export interface Issue {
    /** What is wrong. */
    readonly message: string;
    /** Where in the value, if the schema says. */
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }
  /** A segment of an issue's path. */
  export interface PathSegment {
    /** The key. */
    readonly key: PropertyKey;
  }
  /** The input and output types of a schema. */
  export interface Types<Input = unknown, Output = Input> {
    /** The input type. */
    readonly input: Input;
    /** The output type. */
    readonly output: Output;
  }
}

/**
 * How received messages are checked: a Standard Schema object, or a guard
 * function that returns `true` for a valid message.
 */
export type IpcMessageValidator<T> =
  | StandardSchemaV1<unknown, T>
  | ((message: unknown) => message is T)
  | ((message: unknown) => boolean);

/**
 * Returns a function that checks one message and returns the value to
 * deliver, or throws {@linkcode IpcValidationError}.
 */
export function compileValidator(
  validator: IpcMessageValidator<unknown>,
): (message: unknown, messageIndex: number) => unknown {
  if (typeof validator === "function") {
    return (message, messageIndex) => {
      if (validator(message)) return message;
      throw invalid(message, messageIndex, [{
        message: "the guard function returned false",
      }]);
    };
  }
  const standard = validator["~standard"];
  if (typeof standard?.validate !== "function") {
    throw new TypeError(
      "The validate option must be a function or a Standard Schema object (with a ~standard.validate method).",
    );
  }
  return (message, messageIndex) => {
    const result = standard.validate(message);
    if (result instanceof Promise) {
      throw new TypeError(
        `The schema given to validate (${standard.vendor}) validated asynchronously; ` +
          `messages are checked as they arrive, so only synchronous schemas can be used.`,
      );
    }
    if (result.issues !== undefined) {
      throw invalid(message, messageIndex, result.issues);
    }
    return result.value;
  };
}

function invalid(
  message: unknown,
  messageIndex: number,
  issues: ReadonlyArray<StandardSchemaV1.Issue>,
): IpcValidationError {
  const listed = issues.slice(0, 5).map(describeIssue).join("; ");
  const more = issues.length > 5 ? `; and ${issues.length - 5} more` : "";
  return new IpcValidationError(
    `IPC message #${messageIndex} failed validation: ${listed}${more}.`,
    { messageIndex, issues, value: message },
  );
}

function describeIssue(issue: StandardSchemaV1.Issue): string {
  if (issue.path === undefined || issue.path.length === 0) return issue.message;
  const path = issue.path
    .map((segment) =>
      String(typeof segment === "object" ? segment.key : segment)
    )
    .join(".");
  return `${path}: ${issue.message}`;
}
