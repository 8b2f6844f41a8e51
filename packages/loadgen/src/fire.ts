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
}

export interface FireOptions {
  origin: string;
  path: string;
  /** Requests in flight at once: a closed loop of this many virtual clients. */
  concurrency: number;
  requests: readonly FireRequest[];
  timeoutMs?: number;
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
        let body: Record<string, unknown> | undefined;
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = undefined;
        }
        results[index] = {
          status: res.statusCode,
          code: res.statusCode < 300 ? "ISSUED" : String(body?.code ?? `HTTP_${res.statusCode}`),
          latencyMs: done - sent,
          doneAtMs: done - started,
          body,
        };
      } catch (error) {
        const done = performance.now();
        results[index] = {
          status: 0,
          code: `CLIENT_ERROR:${(error as Error).name}`,
          latencyMs: done - sent,
          doneAtMs: done - started,
          body: undefined,
        };
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
