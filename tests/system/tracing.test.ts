// One issuance traced across the processes, as an operator would see it in a trace backend: the
// services export over OTLP (http/json, configured only by OTEL_* variables) to a receiver in the
// test. The request's trace holds its Redis call; the relay's publish span and the consumer's
// span of the record link to it; the consumer's trace holds the insert; its log line carries the
// request's trace id.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { mintTokens } from "@coupon/loadgen";
import { testEndpoints } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { persistedUsers } from "./audit.ts";
import { openFlashSale, type System, startSystem } from "./system.ts";

interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpTraces {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        name: string;
        kind: number;
        attributes?: OtlpAttribute[];
        links?: { traceId: string; spanId: string }[];
      }[];
    }[];
  }[];
}

const SERVER = 2;
const spans: ExportedSpan[] = [];
let receiver: Server;
let system: System;

const attributesOf = (list: OtlpAttribute[] = []) =>
  Object.fromEntries(list.map(({ key, value }) => [key, value.stringValue ?? value.intValue]));

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const traces = JSON.parse(body) as OtlpTraces;
      for (const resource of traces.resourceSpans ?? []) {
        const service = String(attributesOf(resource.resource?.attributes)["service.name"]);
        for (const scope of resource.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              service,
              traceId: span.traceId,
              spanId: span.spanId,
              name: span.name,
              kind: span.kind,
              attributes: attributesOf(span.attributes),
              links: span.links ?? [],
            });
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((ready) => receiver.listen(0, "127.0.0.1", ready));
  const otel = (service: string) => ({
    OTEL_SERVICE_NAME: service,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as { port: number }).port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "100",
  });
  system = await startSystem("tracing", testEndpoints().kafkaBrokers, {
    env: {
      user: otel("user"),
      coupon: otel("coupon"),
      issue: otel("issue"),
      consumer: { ...otel("issue-consumer"), LOG_LEVEL: "debug" },
    },
  });
}, 240_000);

afterAll(async () => {
  await system?.stop();
  await new Promise((closed) => receiver?.close(closed));
}, 120_000);

async function eventually<T>(what: string, find: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline)
      throw new Error(
        `${what} did not arrive; spans: ${spans.map((s) => `${s.service}:${s.name}`).join(", ")}`,
      );
    await new Promise((settle) => setTimeout(settle, 200));
  }
}

describe("one issuance, traced from the request to its row", () => {
  it("when a user is issued a coupon, then the request's trace reaches the relay, the consumer and the insert, and the consumer's log line carries it", async () => {
    const { eventId, couponId } = await openFlashSale(system, 10);
    const [token] = await mintTokens({
      privateKeyPem: system.privateKeyPem,
      issuer: "coupon-user-service",
      audience: "coupon-platform",
      firstUserId: 90_000,
      count: 1,
      expiresInSec: 600,
    });
    const requestId = randomUUID();
    const answer = await fetch(`${system.services.issue.baseUrl}/coupon-issues`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${token}`,
        "x-request-id": requestId,
      },
      body: JSON.stringify({ eventId, couponId }),
    });
    expect(answer.status).toBe(201);
    expect(await persistedUsers(system.database.url, couponId, 1)).toEqual(["90000"]);

    const request = await eventually("the issue service's server span", () =>
      spans.find(
        (s) =>
          s.service === "issue" &&
          s.kind === SERVER &&
          [s.attributes["url.path"], s.attributes["http.target"]].includes("/coupon-issues"),
      ),
    );
    expect(request.attributes["request.id"]).toBe(requestId);
    const inRequest = () => spans.filter((s) => s.traceId === request.traceId);
    await eventually("the script's Redis call in the request's trace", () =>
      inRequest().find((s) => s.service === "issue" && s.name.toLowerCase() === "evalsha"),
    );
    const linksToRequest = (s: ExportedSpan) => s.links.some((l) => l.traceId === request.traceId);
    await eventually("the relay's publish span, linked to the request", () =>
      spans.find((s) => s.service === "issue" && s.name.startsWith("publish ") && linksToRequest(s)),
    );
    const processing = await eventually("the consumer's span of the record, linked to the request", () =>
      spans.find((s) => s.service === "issue-consumer" && s.name.startsWith("process ") && linksToRequest(s)),
    );
    await eventually("the insert in the consumer's trace", () =>
      spans.find(
        (s) =>
          s.service === "issue-consumer" && s.traceId === processing.traceId && s.name.startsWith("prisma:"),
      ),
    );
    const stored = system.services.consumer
      .logs()
      .find((line) => line.msg === "issuance stored" && line.request_id === requestId);
    expect(stored?.trace_id).toBe(request.traceId);
  }, 120_000);
});
