// ./dev trace REQUEST_ID: the trace of one request as the local Jaeger holds it (./dev up --tracing),
// found by the request id its answer carried (x-request-id, the server span's `request.id`), then
// the traces that link to it: the relay's batch that published its record and the consumer's batch
// that stored it.
//   JAEGER_QUERY_URL  the query API (default: the dev instance's, http://127.0.0.1:16686)
import { type JaegerTrace, linksTo, renderTrace, rootOf } from "./trace-tree.ts";

const QUERY_URL = (process.env.JAEGER_QUERY_URL ?? "http://127.0.0.1:16686").replace(/\/$/, "");
/** Where the traces that follow the request are looked for: its relay and its consumer. */
const FOLLOWERS = [
  { service: "issue", operationPrefix: "publish ", what: "the relay's batch" },
  { service: "issue-consumer", operationPrefix: "process ", what: "the consumer's batch" },
];
const SEARCH_LIMIT = 2000;

async function query<T>(path: string, params: Record<string, string> = {}): Promise<T> {
  const url = `${QUERY_URL}${path}?${new URLSearchParams(params)}`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new Error(
      `Jaeger's query API at ${QUERY_URL} did not answer (${(error as Error).message}): start it with ./dev up --tracing`,
    );
  }
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { data: T }).data;
}

async function requestTrace(requestId: string): Promise<JaegerTrace> {
  const traces = await query<JaegerTrace[]>("/api/traces", {
    service: "issue",
    tags: JSON.stringify({ "request.id": requestId }),
    lookback: "24h",
    limit: "20",
  });
  const trace = traces[0];
  if (!trace) {
    throw new Error(
      `no trace in Jaeger has request.id=${requestId}: was the system started with ./dev up --tracing before the request was sent?`,
    );
  }
  return trace;
}

async function followers(request: JaegerTrace, sinceUs: number) {
  const found: { what: string; trace: JaegerTrace }[] = [];
  for (const { service, operationPrefix, what } of FOLLOWERS) {
    const operations = (await query<string[] | null>(`/api/services/${service}/operations`)) ?? [];
    for (const operation of operations.filter((name) => name.startsWith(operationPrefix))) {
      const traces = await query<JaegerTrace[]>("/api/traces", {
        service,
        operation,
        start: String(sinceUs),
        end: String(Date.now() * 1000),
        limit: String(SEARCH_LIMIT),
      });
      for (const trace of traces) {
        if (trace.traceID !== request.traceID && trace.spans.some((span) => linksTo(span, request.traceID))) {
          found.push({ what, trace });
        }
      }
    }
  }
  return found;
}

const requestId = process.argv[2];
if (!requestId || process.argv.length > 3) {
  process.stderr.write("usage: ./dev trace REQUEST_ID   (the x-request-id of an answer)\n");
  process.exit(2);
}
try {
  const request = await requestTrace(requestId);
  const originUs = rootOf(request)?.startTime ?? 0;
  const out = (text: string) => process.stdout.write(`${text}\n`);
  out(`request ${requestId}: trace ${request.traceID} (${QUERY_URL}/api/traces/${request.traceID})`);
  for (const text of renderTrace(request, { originUs })) out(text);
  const linked = await followers(request, originUs);
  if (linked.length === 0)
    out("\nno relay or consumer span links to this request (yet): its record may not be stored");
  for (const { what, trace } of linked.sort(
    (a, b) => (rootOf(a.trace)?.startTime ?? 0) - (rootOf(b.trace)?.startTime ?? 0),
  )) {
    out(`\n${what}: trace ${trace.traceID}, linked to the request`);
    for (const text of renderTrace(trace, { originUs, focusTraceId: request.traceID })) out(text);
  }
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
