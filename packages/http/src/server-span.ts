// The server span of each request, made here rather than by @opentelemetry/instrumentation-http:
// for every request, sampled or not, that one parses a URL, cleans a score of attributes and wraps
// each listener added to the request and the response, which cost the issue path more than the
// whole export of its spans (bench/README.md, "What tracing costs"). Without the SDK started the
// API's tracer and propagator are no-ops, so a process without telemetry pays next to nothing.
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";

const tracer = trace.getTracer("@coupon/http");

/** The server span attribute that holds the request id (Jaeger: tags `request.id=<id>`). */
const REQUEST_ID_ATTRIBUTE = "request.id";

/**
 * Starts the span of a request, continuing the trace its `traceparent` header names; it ends when
 * the answer is sent (named by the route the request matched, which only then is known) or the
 * connection closes first. Returns the context to run the request in.
 */
export function startServerSpan(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  route: () => string | undefined,
  requestId: string,
): Context {
  const method = req.method ?? "";
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const span = tracer.startSpan(
    method,
    {
      kind: SpanKind.SERVER,
      attributes: { "http.request.method": method, "url.path": path, [REQUEST_ID_ATTRIBUTE]: requestId },
    },
    parent,
  );
  // Not sampled: nothing would be recorded of what follows.
  if (!span.isRecording()) return trace.setSpan(parent, span);
  res.once("close", () => {
    const matched = route();
    if (matched !== undefined) {
      span.updateName(`${method} ${matched}`);
      span.setAttribute("http.route", matched);
    }
    if (res.writableFinished) {
      span.setAttribute("http.response.status_code", res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    } else {
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: "the connection closed before the answer was sent",
      });
    }
    span.end();
  });
  return trace.setSpan(parent, span);
}
