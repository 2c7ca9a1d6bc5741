/**
 * What calls look like on NATS: the subjects, the call-id header, the
 * request and answer bodies, and the size check against the server's
 * `max_payload`. Specified in `docs/nats.md`.
 *
 * - A call of `method` of service `service` is a NATS request to the
 *   subject `<service>.<method>`, with the header `Tether-Call-Id` and the
 *   params as JSON in the body (an empty body for no params).
 * - The answer is `{"result": value}` or `{"error": {code, message, data}}`
 *   (the error object of JSON-RPC, as the channel's calls send it); an error
 *   answer also carries the NATS service headers `Nats-Service-Error` and
 *   `Nats-Service-Error-Code`.
 * - A cancellation is a message to `<service>.$cancel` whose body is the
 *   call's id; every worker of the service gets it.
 *
 * @module
 */

import { IpcMessageTooLargeError } from "../errors.ts";
import type { WireError } from "../calls/jsonrpc.ts";

/** The header that carries a call's id. */
export const CALL_ID_HEADER = "Tether-Call-Id";

/** The subject of the calls of `method`. */
export function methodSubject(service: string, method: string): string {
  return `${service}.${method}`;
}

/** The subject the cancellations of a service's calls go to. */
export function cancelSubject(service: string): string {
  return `${service}.$cancel`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The body of a request: the params as JSON, nothing for `undefined`. */
export function encodeParams(params: unknown): Uint8Array {
  if (params === undefined) return new Uint8Array(0);
  const text = JSON.stringify(params);
  if (text === undefined) {
    throw new TypeError(
      `Cannot send params of type ${typeof params}: they have no JSON form. Send a JSON value.`,
    );
  }
  return encoder.encode(text);
}

/**
 * The params of a request body.
 *
 * @throws {SyntaxError} When it is not JSON.
 */
export function decodeParams(body: Uint8Array): unknown {
  if (body.length === 0) return undefined;
  return JSON.parse(decoder.decode(body));
}

/** The body of an answer. */
export type AnswerBody = { result: unknown } | { error: WireError };

/**
 * The body of an answer, as bytes. A result with no JSON form (`undefined`,
 * a function) is sent as `null`.
 */
export function encodeAnswer(answer: AnswerBody): Uint8Array {
  if ("error" in answer) return encoder.encode(JSON.stringify(answer));
  return encoder.encode(
    `{"result":${JSON.stringify(answer.result) ?? "null"}}`,
  );
}

/**
 * The answer in a body, or `undefined` when it is not one.
 */
export function decodeAnswer(body: Uint8Array): AnswerBody | undefined {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(body));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  if ("result" in value) return value as AnswerBody;
  const error = (value as { error?: unknown }).error;
  if (
    typeof error === "object" && error !== null &&
    Number.isSafeInteger((error as WireError).code) &&
    typeof (error as WireError).message === "string"
  ) return { error: error as WireError };
  return undefined;
}

/**
 * The bytes a header block with one call id takes on the wire
 * (`NATS/1.0\r\nTether-Call-Id: <id>\r\n\r\n`); NATS counts them in
 * `max_payload`.
 */
export function headerBytes(id: string): number {
  return `NATS/1.0\r\n${CALL_ID_HEADER}: ${id}\r\n\r\n`.length;
}

/**
 * Refuses a message over the server's `max_payload` before it is sent.
 *
 * @param what What the message is, for the error message.
 * @param size Its size: body and headers.
 * @param limit The server's `max_payload`, or `undefined` when not known.
 * @throws {IpcMessageTooLargeError} When `size` is over `limit`.
 */
export function checkPayload(
  what: string,
  size: number,
  limit: number | undefined,
): void {
  if (limit === undefined || size <= limit) return;
  throw new IpcMessageTooLargeError(
    `Cannot send ${what}: it takes ${size} bytes with its headers, over the NATS server's ` +
      `max_payload of ${limit} bytes. Nothing was sent. Send less data per call ` +
      `(or raise max_payload in the server's configuration).`,
    size,
    limit,
  );
}
