import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { createTestDatabase, type TestDatabase } from "@coupon/db/testing";
import { testEndpoints } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

interface Traced {
  spans: {
    name: string;
    kind: number;
    scope: string;
    traceId: string;
    spanId: string;
    parentSpanId?: string;
    path?: string;
    statement?: string;
    links: number;
  }[];
  lines: Record<string, unknown>[];
}

const fixtures = resolve(import.meta.dirname, "fixtures");
let database: TestDatabase;
let traced: Traced;

beforeAll(async () => {
  database = await createTestDatabase({ serverUrl: testEndpoints().databaseServerUrl, label: "telemetry" });
  const endpoints = testEndpoints();
  const stdout = await new Promise<string>((done, fail) =>
    execFile(
      process.execPath,
      ["--import", resolve(fixtures, "in-memory-telemetry.ts"), resolve(fixtures, "traced-calls.ts")],
      {
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? "",
          REDIS_URL: endpoints.redisUrl,
          KAFKA_BROKERS: endpoints.kafkaBrokers.join(","),
          DATABASE_URL: database.url,
          TOPIC: `telemetry.${randomUUID().slice(0, 8)}`,
        },
      },
      (error, out, err) => (error ? fail(new Error(`${error.message}\n${err}`)) : done(out)),
    ),
  );
  traced = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Traced;
}, 90_000);

afterAll(async () => {
  await database?.drop();
});

describe("the instrumentations of a service process", () => {
  it("when a request is handled, then its server span has children from Express, undici, ioredis, kafkajs and Prisma, all in its trace", () => {
    const server = traced.spans.find((s) => s.scope === "@coupon/http" && s.kind === 1);
    expect(server, JSON.stringify(traced.spans.map((s) => [s.scope, s.name]))).toBeDefined();
    const inTrace = traced.spans.filter((s) => s.traceId === server?.traceId);
    const scopes = new Set(inTrace.map((s) => s.scope));
    for (const scope of [
      "@opentelemetry/instrumentation-express",
      "@opentelemetry/instrumentation-undici",
      "@opentelemetry/instrumentation-ioredis",
      "@opentelemetry/instrumentation-kafkajs",
      "prisma",
    ]) {
      expect(scopes, `${scope} in ${[...scopes].join(", ")}`).toContain(scope);
    }
  });

  it("when a service calls another, then the callee's server span is a child of the caller's undici span", () => {
    const call = traced.spans.find((s) => s.scope === "@opentelemetry/instrumentation-undici");
    const callee = traced.spans.find((s) => s.kind === 1 && s.path === "/other");
    expect(callee?.traceId).toBe(call?.traceId);
    expect(callee?.parentSpanId).toBe(call?.spanId);
  });

  it("when a consumer reads the record, then its span continues the producer's trace", () => {
    const producer = traced.spans.find(
      (s) => s.scope === "@opentelemetry/instrumentation-kafkajs" && s.kind === 3,
    );
    const consumer = traced.spans.find(
      (s) => s.scope === "@opentelemetry/instrumentation-kafkajs" && s.kind === 4,
    );
    expect(producer).toBeDefined();
    expect(consumer?.traceId).toBe(producer?.traceId);
  });

  it("when concurrent requests' Redis commands are auto-pipelined together, then each command's span is in its own request's trace", () => {
    const requests = traced.spans.filter((s) => s.kind === 1 && s.path?.startsWith("/key/"));
    expect(requests).toHaveLength(50);
    for (const request of requests) {
      const commands = traced.spans.filter(
        (s) => s.traceId === request.traceId && s.scope === "@opentelemetry/instrumentation-ioredis",
      );
      expect(commands.map((s) => s.statement)).toEqual([
        expect.stringMatching(`^get \\S*key-${request.path?.slice(5)}$`),
      ]);
    }
  });

  it("when a span links to hundreds of others, as a relay batch's does, then it keeps every link", () => {
    expect(traced.spans.find((s) => s.name === "batch")?.links).toBe(600);
  });

  it("when a line is logged inside a span, then it carries that span's trace and span ids", () => {
    const line = traced.lines.find((l) => l.msg === "inside the request");
    const server = traced.spans.find((s) => s.scope === "@coupon/http" && s.kind === 1);
    expect(line?.trace_id).toBe(server?.traceId);
    expect(traced.spans.map((s) => s.spanId)).toContain(line?.span_id);
  });
});
