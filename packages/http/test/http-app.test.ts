import { Writable } from "node:stream";
import { gzipSync } from "node:zlib";
import { createLogger } from "@coupon/logging";
import { AppError } from "@coupon/problems";
import { Registry } from "prom-client";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createHttpApp, type HttpAppOptions, type JsonRoute, parseInput } from "../src/index.ts";

const silent = createLogger({ service: "test", level: "silent" });

const thing = z.object({ email: z.email(), quantity: z.number().int().positive() });

/** POST /things as a JsonRoute, served without Express when the request allows it. */
const thingsRoute: JsonRoute = {
  method: "POST",
  path: "/things",
  async handle({ body }) {
    return { status: 201, body: parseInput(thing, body) };
  },
};

type RouteKind = "express" | "json";

function buildApp(overrides: Partial<HttpAppOptions> = {}, kind: RouteKind = "express") {
  return createHttpApp({
    service: "test",
    logger: silent,
    registry: new Registry(),
    bodyLimitBytes: 1024,
    ...(kind === "json" ? { jsonRoutes: [thingsRoute] } : {}),
    routes: (app) => {
      if (kind === "express") {
        app.post("/things", (req, res) => {
          res.status(201).json(parseInput(thing, req.body));
        });
      }
      app.get("/conflict", () => {
        throw new AppError({ status: 409, code: "ALREADY_THERE", title: "Conflict", detail: "it exists" });
      });
      app.get("/crash", async () => {
        throw new Error("database password is hunter2");
      });
    },
    ...overrides,
  });
}

function expectProblem(res: request.Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String) });
  expect(typeof res.body.detail).toBe("string");
}

describe.each<RouteKind>(["express", "json"])("POST with a JSON body to a route of kind %s", (kind) => {
  it("when the JSON is malformed, then 400 problem+json", async () => {
    const res = await request(buildApp({}, kind))
      .post("/things")
      .set("content-type", "application/json")
      .send('{"email": ');
    expectProblem(res, 400, "MALFORMED_JSON");
  });

  it("when the body is larger than the limit, then 413 problem+json", async () => {
    const res = await request(buildApp({}, kind))
      .post("/things")
      .set("content-type", "application/json")
      .send(JSON.stringify({ email: "a@b.co", quantity: 1, pad: "x".repeat(2000) }));
    expectProblem(res, 413, "PAYLOAD_TOO_LARGE");
  });

  it("when the content type is not JSON, then 415 problem+json", async () => {
    const res = await request(buildApp({}, kind))
      .post("/things")
      .set("content-type", "text/plain")
      .send("hello");
    expectProblem(res, 415, "UNSUPPORTED_MEDIA_TYPE");
    const form = await request(buildApp({}, kind)).post("/things").type("form").send({ email: "a@b.co" });
    expectProblem(form, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("when the charset is not supported, then 415 problem+json", async () => {
    const res = await request(buildApp({}, kind))
      .post("/things")
      .set("content-type", "application/json; charset=latin-9000")
      .send("{}");
    expectProblem(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("when the JSON is a bare value rather than an object or array, then 400 problem+json", async () => {
    const res = await request(buildApp({}, kind))
      .post("/things")
      .set("content-type", "application/json")
      .send('"a@b.co"');
    expectProblem(res, 400, "MALFORMED_JSON");
  });

  it("when the JSON starts with a UTF-8 byte order mark or a charset, then it is parsed", async () => {
    const body = JSON.stringify({ email: "a@b.co", quantity: 3 });
    const bom = await request(buildApp({}, kind))
      .post("/things")
      .set("content-type", "application/json")
      .serialize((raw) => raw)
      .send(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]));
    expect(bom.status).toBe(201);
    const charset = await request(buildApp({}, kind))
      .post("/things")
      .set("content-type", "application/json; charset=UTF-8")
      .send(body);
    expect(charset.body).toEqual({ email: "a@b.co", quantity: 3 });
  });

  it("when the JSON is gzip-compressed or sent as a +json type, then it is parsed as well", async () => {
    const body = JSON.stringify({ email: "a@b.co", quantity: 4 });
    const gzipped = await request(buildApp({}, kind))
      .post("/things")
      .set("content-type", "application/json")
      .set("content-encoding", "gzip")
      .serialize((raw) => raw)
      .send(gzipSync(body));
    expect(gzipped.status).toBe(201);
    expect(gzipped.body).toEqual({ email: "a@b.co", quantity: 4 });
    const vendor = await request(buildApp({}, kind))
      .post("/things")
      .set("content-type", "application/vnd.coupon+json")
      .send(body);
    expect(vendor.status).toBe(201);
  });

  it("when fields are invalid, then 400 naming each field", async () => {
    const res = await request(buildApp({}, kind)).post("/things").send({ email: "nope", quantity: -1 });
    expectProblem(res, 400, "VALIDATION_FAILED");
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(["email", "quantity"]);
  });

  it("when the body is a JSON array instead of an object, then 400 naming the body", async () => {
    const res = await request(buildApp({}, kind)).post("/things").send([1, 2]);
    expectProblem(res, 400, "VALIDATION_FAILED");
    expect(res.body.errors[0].field).toBe("body");
  });

  it("when the input is valid, then the route answers", async () => {
    const res = await request(buildApp({}, kind)).post("/things").send({ email: "a@b.co", quantity: 2 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ email: "a@b.co", quantity: 2 });
  });

  it("when the answer is sent, then it is JSON and carries the request id", async () => {
    const res = await request(buildApp({}, kind))
      .post("/things")
      .set("x-request-id", "req-42")
      .send({ email: "a@b.co", quantity: 5 });
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(res.headers["x-request-id"]).toBe("req-42");
  });

  it("when it has answered, then /metrics counts it under the route's path", async () => {
    const app = buildApp({}, kind);
    await request(app).post("/things").send({ email: "a@b.co", quantity: 1 });
    expect((await request(app).get("/metrics")).text).toMatch(
      /http_request_duration_seconds_count\{method="POST",route="\/things",status="201"\} 1/,
    );
  });
});

describe("createHttpApp", () => {
  it("when a route throws an AppError, then its status and code are rendered", async () => {
    const res = await request(buildApp()).get("/conflict");
    expectProblem(res, 409, "ALREADY_THERE");
    expect(res.body.instance).toBe("/conflict");
  });

  it("when a route fails unexpectedly, then 500 problem+json without internals, and it is logged", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _e, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ service: "test", level: "info", destination });
    const res = await request(buildApp({ logger })).get("/crash");
    expectProblem(res, 500, "INTERNAL_ERROR");
    expect(JSON.stringify(res.body)).not.toContain("hunter2");
    expect(lines.some((l) => l.includes("unhandled error") && l.includes("request_id"))).toBe(true);
  });

  it("when a route fails because a named dependency is unreachable, then 503 naming it with Retry-After; any other failure stays 500", async () => {
    const outage = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:3306"), { code: "ECONNREFUSED" });
    const app = buildApp({
      unavailableWhen: { database: (error) => (error as { code?: string }).code === "ECONNREFUSED" },
      routes: (routes) => {
        routes.get("/outage", async () => {
          throw outage;
        });
        routes.get("/crash", async () => {
          throw new Error("database password is hunter2");
        });
      },
    });

    const unavailable = await request(app).get("/outage");
    expectProblem(unavailable, 503, "DATABASE_UNAVAILABLE");
    expect(unavailable.headers["retry-after"]).toBe("1");
    expect(JSON.stringify(unavailable.body)).not.toContain("3306");
    expectProblem(await request(app).get("/crash"), 500, "INTERNAL_ERROR");
  });

  it("when the route does not exist, then 404 problem+json, not an HTML page", async () => {
    const res = await request(buildApp()).get("/nowhere");
    expectProblem(res, 404, "ROUTE_NOT_FOUND");
  });

  it("when a request id is sent, then it is echoed; otherwise one is generated", async () => {
    const app = buildApp();
    const given = await request(app).get("/healthz").set("x-request-id", "abc-123");
    expect(given.headers["x-request-id"]).toBe("abc-123");
    const generated = await request(app).get("/healthz").set("x-request-id", "bad id with spaces");
    expect(generated.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("when a dependency check fails, then /readyz is 503 and names it; /healthz stays 200", async () => {
    const app = buildApp({
      readinessChecks: {
        redis: async () => "PONG",
        kafka: async () => {
          throw new Error("connection refused");
        },
      },
    });
    const ready = await request(app).get("/readyz");
    expectProblem(ready, 503, "DEPENDENCY_UNAVAILABLE");
    expect(ready.body.checks).toEqual({ redis: "ok", kafka: "connection refused" });
    expect((await request(app).get("/healthz")).status).toBe(200);
  });

  it("when a dependency check hangs, then /readyz answers 503 within the timeout", async () => {
    const app = buildApp({
      readinessTimeoutMs: 50,
      readinessChecks: { slow: () => new Promise(() => {}) },
    });
    const ready = await request(app).get("/readyz");
    expectProblem(ready, 503, "DEPENDENCY_UNAVAILABLE");
    expect(ready.body.checks.slow).toMatch(/no answer within 50 ms/);
  });

  it("when all checks pass, then /readyz is 200; when shutting down, then 503", async () => {
    let accepting = true;
    const app = buildApp({ readinessChecks: { redis: async () => "PONG" }, isAccepting: () => accepting });
    expect((await request(app).get("/readyz")).body).toEqual({ status: "ok", checks: { redis: "ok" } });
    accepting = false;
    expectProblem(await request(app).get("/readyz"), 503, "SHUTTING_DOWN");
  });

  it("when /metrics is scraped, then the default metrics are exposed", async () => {
    const res = await request(buildApp()).get("/metrics");
    expect(res.status).toBe(200);
    expect(res.text).toContain("process_cpu_user_seconds_total");
  });
});
