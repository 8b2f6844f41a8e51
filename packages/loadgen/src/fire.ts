import { request as httpRequest } from "node:http";
import { Pool } from "undici";

export interface FireRequest {
  token: string;
  body: string;
}

export interface FireResult {
  status: number;
  /** The problem `code` of an error answer, or the response's `userId`-free success marker. */
  code: string;
  latencyMs: number;
  /** Milliseconds since the run started, when the answer arrived. */
  doneAtMs: number;
  body: Record<string, unknown> | undefined;
  /** The answer's x-request-id: what its trace and its log lines are found by. */
  requestId: string | undefined;
}

export interface FireOptions {
  origin: string;
  path: string;
  /** Requests in flight at once: a closed loop of this many virtual clients. */
  concurrency: number;
  requests: readonly FireRequest[];
  timeoutMs?: number;
}

type Headers = Record<string, string | string[] | undefined>;

function answered(
  status: number,
  headers: Headers,
  text: string,
  latencyMs: number,
  doneAtMs: number,
): FireResult {
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  return {
    status,
    code: status < 300 ? "ISSUED" : String(body?.code ?? `HTTP_${status}`),
    latencyMs,
    doneAtMs,
    body,
    requestId: typeof headers["x-request-id"] === "string" ? headers["x-request-id"] : undefined,
  };
}

function failed(error: unknown, latencyMs: number, doneAtMs: number): FireResult {
  return {
    status: 0,
    code: `CLIENT_ERROR:${(error as Error).name}`,
    latencyMs,
    doneAtMs,
    body: undefined,
    requestId: undefined,
  };
}

/** Sends every request once, `concurrency` at a time over keep-alive connections. */
export async function fireAll(options: FireOptions): Promise<{ results: FireResult[]; elapsedMs: number }> {
  const pool = new Pool(options.origin, {
    connections: options.concurrency,
    pipelining: 1,
    headersTimeout: options.timeoutMs ?? 30_000,
    bodyTimeout: options.timeoutMs ?? 30_000,
  });
  const results: FireResult[] = new Array(options.requests.length);
  let next = 0;
  const started = performance.now();

  async function client(): Promise<void> {
    while (next < options.requests.length) {
      const index = next++;
      const request = options.requests[index] as FireRequest;
      const sent = performance.now();
      try {
        const res = await pool.request({
          method: "POST",
          path: options.path,
          headers: { "content-type": "application/json", authorization: `Bearer ${request.token}` },
          body: request.body,
        });
        const text = await res.body.text();
        const done = performance.now();
        results[index] = answered(res.statusCode, res.headers, text, done - sent, done - started);
      } catch (error) {
        const done = performance.now();
        results[index] = failed(error, done - sent, done - started);
      }
    }
  }

  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, options.requests.length) }, client));
  } finally {
    await pool.close();
  }
  return { results, elapsedMs: performance.now() - started };
}

export interface OpenLoopOptions {
  origin: string;
  path: string;
  requests: readonly FireRequest[];
  /** When request i is due, in milliseconds after the start. */
  arrivalMs: (index: number) => number;
  timeoutMs?: number;
}

export interface OpenLoopResult {
  /** Latency counts from when a request was due, so a generator that falls behind cannot hide it. */
  results: FireResult[];
  elapsedMs: number;
  /** The furthest any request left after it was due. */
  maxSendLagMs: number;
}

/**
 * Sends each request when it is due, whatever happened to the earlier ones (an open loop, as a
 * JMeter thread group with a ramp-up does), each on a connection of its own, like one JMeter thread
 * per user that sends one request and ends.
 */
export async function fireOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { requests } = options;
  const results: FireResult[] = new Array(requests.length);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const target = new URL(options.path, options.origin);
  let maxSendLagMs = 0;
  const started = performance.now();

  const send = (index: number, dueAt: number) =>
    new Promise<void>((resolve) => {
      const request = requests[index] as FireRequest;
      maxSendLagMs = Math.max(maxSendLagMs, performance.now() - dueAt);
      const settle = (result: FireResult) => {
        results[index] = result;
        resolve();
      };
      const req = httpRequest(
        target,
        {
          method: "POST",
          agent: false,
          timeout: timeoutMs,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(request.body),
            authorization: `Bearer ${request.token}`,
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () => {
            const done = performance.now();
            settle(answered(res.statusCode ?? 0, res.headers, text, done - dueAt, done - started));
          });
          res.on("error", (error) => {
            const done = performance.now();
            settle(failed(error, done - dueAt, done - started));
          });
        },
      );
      req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { name: "TimeoutError" })));
      req.on("error", (error) => {
        const done = performance.now();
        settle(failed(error, done - dueAt, done - started));
      });
      req.end(request.body);
    });

  const inFlight: Promise<void>[] = [];
  let next = 0;
  await new Promise<void>((allSent) => {
    const tick = () => {
      const now = performance.now() - started;
      while (next < requests.length && options.arrivalMs(next) <= now) {
        inFlight.push(send(next, started + options.arrivalMs(next)));
        next++;
      }
      if (next === requests.length) return allSent();
      setTimeout(tick, Math.max(0, options.arrivalMs(next) - (performance.now() - started)));
    };
    tick();
  });
  await Promise.all(inFlight);
  return { results, elapsedMs: performance.now() - started, maxSendLagMs };
}
