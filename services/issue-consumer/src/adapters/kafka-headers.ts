import type { IHeaders } from "kafkajs";
import type { Headers } from "../domain/headers.ts";

/** kafkajs headers (Buffers, arrays for repeated names) as text. */
export function headersOf(headers: IHeaders | undefined): Headers {
  const out: Headers = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return out;
}
