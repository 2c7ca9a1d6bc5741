/**
 * The `"json"` wire format: each message is `JSON.stringify(value)` and a
 * newline, UTF-8 encoded (Node's `"json"` IPC serialization). Encoding
 * refuses what JSON cannot carry and what is over the size limit before a
 * byte is written; `json_encoder.ts` queues and joins lines,
 * `json_decoder.ts` reads them.
 *
 * @module
 */

import type { Codec } from "./codec.ts";
import { JsonDecoder } from "./json_decoder.ts";
import { JsonEncoder } from "./json_encoder.ts";

/** Newline-delimited JSON. */
export const jsonCodec: Codec = {
  serialization: "json",
  encoder: (maxMessageBytes) => new JsonEncoder(maxMessageBytes),
  decoder: (sink, maxMessageBytes) =>
    new JsonDecoder(sink, { maxMessageBytes }),
};
