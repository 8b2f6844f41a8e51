import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { AppError, type ProblemDetails } from "@coupon/problems";

/** What a JSON route's handler sees of a request. */
export interface JsonRequest {
  /** The parsed body; undefined when the request carried none. */
  body: unknown;
  headers: IncomingHttpHeaders;
  requestId: string;
}

export interface JsonAnswer {
  status: number;
  body: unknown;
}

/**
 * A route that takes JSON and answers JSON, with its failures thrown as AppError. createHttpApp
 * serves it straight from node:http when the request is the common case (one JSON body of known
 * length, neither compressed nor chunked) and through Express otherwise, with the same handler and
 * the same answers either way: on the issue path, skipping Express's router and body parser saves
 * a sixth of the service's CPU per answer (bench/README.md, optimisation 6).
 */
export interface JsonRoute {
  method: "POST" | "PUT" | "PATCH";
  path: string;
  handle(request: JsonRequest): Promise<JsonAnswer>;
}

const PROBLEM_CONTENT_TYPE = "application/problem+json; charset=utf-8";
const JSON_CONTENT_TYPE = "application/json; charset=utf-8";
const PLAIN_JSON_TYPES = new Set(["application/json", "application/json; charset=utf-8"]);
const DIGITS = /^[0-9]{1,10}$/;

/**
 * The byte length of the body when the request is one the direct path takes as it is; undefined
 * when Express's body parser must handle it (no body, chunked, compressed, another media type or
 * charset, over the limit: its answers for those are the reference).
 */
export function plainJsonBodyLength(headers: IncomingHttpHeaders, limitBytes: number): number | undefined {
  if (headers["transfer-encoding"] !== undefined || headers["content-encoding"] !== undefined)
    return undefined;
  const type = headers["content-type"];
  if (type === undefined || !PLAIN_JSON_TYPES.has(type.toLowerCase().replace(/;\s*/, "; "))) return undefined;
  const length = headers["content-length"];
  if (length === undefined || !DIGITS.test(length)) return undefined;
  const bytes = Number(length);
  return bytes > 0 && bytes <= limitBytes ? bytes : undefined;
}

function malformedJson(): AppError {
  return new AppError({
    status: 400,
    code: "MALFORMED_JSON",
    title: "Malformed JSON",
    detail: "the request body is not valid JSON",
  });
}

const BOM = "\uFEFF";
const LEADING_JSON_WHITESPACE = /^[ \t\n\r]*/;

/** Parses a body as express.json() does in strict mode: an object or array, a leading BOM ignored. */
export function parseJsonBody(raw: Buffer): unknown {
  let text = raw.toString("utf8");
  if (text.startsWith(BOM)) text = text.slice(1);
  const first = text.charAt(LEADING_JSON_WHITESPACE.exec(text)?.[0].length ?? 0);
  if (first !== "{" && first !== "[") throw malformedJson();
  try {
    return JSON.parse(text);
  } catch {
    throw malformedJson();
  }
}

/** Reads a body whose length the headers gave; rejects when the client goes away before sending it. */
export function readBody(req: IncomingMessage, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () =>
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length)),
    );
    req.once("error", reject);
    // After "end" this is a no-op: the promise is settled.
    req.once("close", () => reject(new Error("the client closed the request before sending its body")));
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, { ...headers, "content-type": contentType, "content-length": Buffer.byteLength(body) })
    .end(body);
}

export function sendAnswer(res: ServerResponse, answer: JsonAnswer): void {
  sendJson(res, answer.status, JSON.stringify(answer.body), JSON_CONTENT_TYPE);
}

export function sendProblem(
  res: ServerResponse,
  problem: ProblemDetails,
  headers: Record<string, string> = {},
): void {
  sendJson(res, problem.status, JSON.stringify(problem), PROBLEM_CONTENT_TYPE, headers);
}
