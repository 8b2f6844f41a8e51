import express, { type RequestHandler } from "express";

const JSON_TYPES = ["application/json", "application/*+json"];
// The content types almost every client sends, for which the body is UTF-8 JSON as it stands.
const PLAIN_JSON = new Set([
  "application/json",
  "application/json; charset=utf-8",
  "application/json;charset=utf-8",
]);
// JSON's whitespace: space, tab, line feed, carriage return.
const FIRST_NON_WHITESPACE = /^[ \t\n\r]*([^ \t\n\r]|$)/;

interface ParserError extends Error {
  status: number;
  statusCode: number;
  expose: boolean;
  type: string;
}

/** An error shaped like body-parser's (http-errors), so one error handler renders both alike. */
function parserError(status: number, type: string, message: string): ParserError {
  return Object.assign(new Error(message), { status, statusCode: status, expose: true, type });
}

function parseStrictJson(text: string): unknown {
  if (text.length === 0) return {};
  const first = FIRST_NON_WHITESPACE.exec(text)?.[1];
  if (first !== "{" && first !== "[")
    throw parserError(400, "entity.parse.failed", "Unexpected token in JSON");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw parserError(400, "entity.parse.failed", (error as Error).message);
  }
}

function bytes(limit: string): number {
  const match = /^(\d+)(b|kb|mb)?$/i.exec(limit.trim());
  if (!match) throw new Error(`body limit ${limit}: expected e.g. "16kb"`);
  const unit = { b: 1, kb: 1024, mb: 1024 * 1024 }[(match[2] ?? "b").toLowerCase() as "b" | "kb" | "mb"];
  return Number(match[1]) * unit;
}

/**
 * Requires a JSON body when there is one and parses it into req.body. A request that carries a body
 * must say it is JSON: a form or text body would otherwise reach the routes as an empty object and
 * be answered as missing fields instead of as the wrong format.
 *
 * The common request (Content-Type application/json, UTF-8, no Content-Encoding, a Content-Length
 * within the limit) is read and parsed here directly, with body-parser's rules (strict: an object
 * or an array; an empty body is {}; a UTF-8 BOM is dropped); everything else (compressed bodies,
 * other charsets, chunked or oversized bodies, +json types) goes through express.json(). Both end
 * in the same errors, which the app's error handler renders.
 */
export function jsonBody(options: {
  limit: string;
  /** Answers a request whose body is not JSON. */
  unsupportedType: RequestHandler;
}): RequestHandler {
  const limit = bytes(options.limit);
  const general = express.json({ limit: options.limit, type: JSON_TYPES });
  return (req, res, next) => {
    const headers = req.headers;
    const hasBody = headers["transfer-encoding"] !== undefined || Number(headers["content-length"] ?? 0) > 0;
    if (!hasBody) return general(req, res, next);
    const type = headers["content-type"];
    const length = Number(headers["content-length"]);
    const fast =
      type !== undefined &&
      PLAIN_JSON.has(type.toLowerCase()) &&
      headers["transfer-encoding"] === undefined &&
      (headers["content-encoding"] === undefined ||
        headers["content-encoding"].toLowerCase() === "identity") &&
      Number.isSafeInteger(length) &&
      length <= limit;
    if (!fast) {
      if (!req.is(JSON_TYPES)) return options.unsupportedType(req, res, next);
      return general(req, res, next);
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      if (error) return next(error);
      let body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
      if (body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf)
        body = body.subarray(3);
      try {
        req.body = parseStrictJson(body.toString("utf8"));
      } catch (parseError) {
        return next(parseError);
      }
      next();
    };
    req.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
    });
    req.on("end", () =>
      finish(
        received === length
          ? undefined
          : parserError(400, "request.size.invalid", "request size did not match content length"),
      ),
    );
    req.on("error", (error) => finish(parserError(400, "request.aborted", error.message)));
    req.on("close", () => {
      if (!req.complete) finish(parserError(400, "request.aborted", "request aborted"));
    });
  };
}
