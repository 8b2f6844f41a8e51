import { createLogger } from "@coupon/logging";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Router } from "express";
import { Registry } from "prom-client";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type ApiSpec,
  createHttpApp,
  type HttpAppOptions,
  type JsonRoute,
  type OperationSpec,
} from "../src/index.ts";
import { openApiDocument } from "../src/openapi.ts";

const silent = createLogger({ service: "test", level: "silent" });

const thingParams = z.object({ thingId: z.string().regex(/^[1-9][0-9]*$/) });
const listQuery = z.object({ owner: z.string(), limit: z.coerce.number().int().positive().optional() });
const newThing = z.object({
  name: z.string().trim().pipe(z.string().min(3, "at least 3 characters")),
  quantity: z.number().int().positive(),
});
const thing = z.object({ thingId: z.string(), name: z.string(), quantity: z.number().int() });

const operations: OperationSpec[] = [
  {
    method: "post",
    path: "/things",
    operationId: "createThing",
    summary: "Create a thing",
    auth: { problems: { 401: { codes: ["NOT_TOKEN"], headers: { "WWW-Authenticate": "Bearer" } } } },
    body: newThing,
    responses: { 201: { description: "the thing", body: thing, headers: { Location: "its URL" } } },
    problems: { 409: { codes: ["THING_EXISTS"] }, 401: { codes: ["INVALID_TOKEN"] } },
  },
  {
    method: "get",
    path: "/things",
    operationId: "listThings",
    summary: "List things",
    query: listQuery,
    responses: { 200: { description: "the things", body: z.array(thing) } },
  },
  {
    method: "get",
    path: "/things/:thingId",
    operationId: "getThing",
    summary: "A thing",
    params: thingParams,
    responses: { 200: { description: "the thing", body: thing } },
    problems: { 404: { codes: ["THING_NOT_FOUND"] } },
  },
  {
    method: "get",
    path: "/things/first",
    operationId: "firstThing",
    summary: "The first thing",
    responses: { 200: { description: "the thing", body: thing } },
  },
];

const api: ApiSpec = { title: "Things", version: "1.0.0", operations };

const ok = (res: { json(body: unknown): void }) => res.json({ thingId: "1", name: "one", quantity: 1 });

function buildApp(overrides: Partial<HttpAppOptions> = {}) {
  return createHttpApp({
    service: "things",
    logger: silent,
    registry: new Registry(),
    openApi: api,
    routes: (app) => {
      app.post("/things", (_req, res) => ok(res.status(201)));
      app.get("/things", (_req, res) => {
        res.json([]);
      });
      const nested = Router();
      nested.get("/things/first", (_req, res) => ok(res));
      nested.get("/things/:thingId", (_req, res) => ok(res));
      app.use(nested);
    },
    ...overrides,
  });
}

describe("openApiDocument", () => {
  const document = openApiDocument("things", api);
  const paths = document.paths as Record<string, Record<string, Record<string, unknown>>>;

  it("when built from zod schemas, then it is a valid OpenAPI 3.1 document", async () => {
    const validator = new Validator();
    expect(await validator.validate(document)).toEqual({ valid: true });
    expect(validator.version).toBe("3.1");
  });

  it("when a route takes path and query parameters, then they are described from its schemas", () => {
    expect(paths["/things/{thingId}"]?.get?.parameters).toEqual([
      { name: "thingId", in: "path", required: true, schema: { type: "string", pattern: "^[1-9][0-9]*$" } },
    ]);
    expect(paths["/things"]?.get?.parameters).toEqual([
      { name: "owner", in: "query", required: true, schema: { type: "string" } },
      {
        name: "limit",
        in: "query",
        required: false,
        schema: { type: "integer", exclusiveMinimum: 0, maximum: Number.MAX_SAFE_INTEGER },
      },
    ]);
  });

  it("when a string is normalised and then checked, then the body schema states the check", () => {
    const body = paths["/things"]?.post?.requestBody as {
      content: {
        "application/json": { schema: { properties: Record<string, unknown>; required: string[] } };
      };
    };
    const schema = body.content["application/json"].schema;
    expect(schema.properties.name).toEqual({ type: "string", allOf: [{ type: "string", minLength: 3 }] });
    expect(schema.required).toEqual(["name", "quantity"]);
  });

  it("when a route has a body and a token, then its problems are those of the body, the token and its own", () => {
    const responses = paths["/things"]?.post?.responses as Record<string, Record<string, unknown>>;
    expect(Object.keys(responses)).toEqual(["201", "400", "401", "409", "413", "415"]);
    type ProblemContent = { "application/problem+json": { schema: { properties: { code: unknown } } } };
    const problem = (status: string) => {
      const content = responses[status]?.content as ProblemContent | undefined;
      return content?.["application/problem+json"].schema.properties.code;
    };
    expect(problem("400")).toEqual({
      type: "string",
      enum: ["MALFORMED_JSON", "BAD_REQUEST", "VALIDATION_FAILED"],
    });
    expect(problem("401")).toEqual({ type: "string", enum: ["NOT_TOKEN", "INVALID_TOKEN"] });
    expect(responses["401"]?.headers).toEqual({
      "WWW-Authenticate": { description: "Bearer", schema: { type: "string" } },
    });
    expect(responses["201"]?.headers).toHaveProperty("Location");
    expect(paths["/things"]?.post?.security).toEqual([{ bearerAuth: [] }]);
    expect(paths["/things"]?.get?.security).toBeUndefined();
  });

  it("when a path parameter has no schema, then the document is refused", () => {
    const broken = { ...api, operations: [{ ...operations[2], params: undefined } as OperationSpec] };
    expect(() => openApiDocument("things", broken)).toThrow(
      /getThing: path \/things\/:thingId has parameters/,
    );
  });
});

describe("an app with an OpenAPI document", () => {
  it("when /openapi.json is fetched, then it lists the service's routes and the app's own", async () => {
    const res = await request(buildApp()).get("/openapi.json");
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths).sort()).toEqual([
      "/healthz",
      "/metrics",
      "/openapi.json",
      "/readyz",
      "/things",
      "/things/first",
      "/things/{thingId}",
    ]);
  });

  it("when the app answers a dependency's outage with 503, then every service route documents it", async () => {
    const app = buildApp({ unavailableWhen: { database: () => false, redis: () => false } });
    const { paths } = (await request(app).get("/openapi.json")).body;
    const codes = (operation: { responses: Record<string, Record<string, unknown>> }) =>
      (
        operation.responses["503"]?.content as Record<string, { schema: { properties: { code: unknown } } }>
      )?.["application/problem+json"]?.schema.properties.code;
    expect(codes(paths["/things/{thingId}"].get)).toEqual({
      type: "string",
      enum: ["DATABASE_UNAVAILABLE", "REDIS_UNAVAILABLE"],
    });
    expect(paths["/things/{thingId}"].get.responses["503"].headers).toHaveProperty("Retry-After");
    expect(paths["/healthz"].get.responses["503"]).toBeUndefined();
  });

  it("when a route is not in the document, then the app refuses to build", () => {
    expect(() =>
      buildApp({
        routes: (app) => {
          app.post("/things", (_req, res) => ok(res));
          app.get("/things", (_req, res) => ok(res));
          const nested = Router();
          nested.get("/things/first", (_req, res) => ok(res));
          nested.get("/things/:thingId", (_req, res) => ok(res));
          nested.delete("/things/:thingId", (_req, res) => ok(res));
          app.use(nested);
        },
      }),
    ).toThrow(
      "the OpenAPI document of things does not match its routes: undocumented [DELETE /things/:thingId]",
    );
  });

  it("when a documented route is not served, then the app refuses to build", () => {
    expect(() => buildApp({ routes: (app) => app.get("/things", (_req, res) => ok(res)) })).toThrow(
      "documented but not served [GET /things/:thingId, GET /things/first, POST /things]",
    );
  });

  it("when a documented route is a JSON route, then it counts as served", () => {
    const create: JsonRoute = {
      method: "POST",
      path: "/things",
      handle: async () => ({ status: 201, body: {} }),
    };
    const mounted = Router();
    mounted.get("/first", (_req, res) => ok(res));
    mounted.get("/:thingId", (_req, res) => ok(res));
    expect(() =>
      buildApp({
        jsonRoutes: [create],
        routes: (app) => {
          app.get("/things", (_req, res) => ok(res));
          app.use("/things", mounted);
        },
      }),
    ).not.toThrow();
  });

  it("when a documented path is asked with another method, then 405 with Allow", async () => {
    const res = await request(buildApp()).delete("/things/7");
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe("GET, HEAD, OPTIONS");
    expect(res.body).toMatchObject({ status: 405, code: "METHOD_NOT_ALLOWED" });
  });

  it("when a concrete path is asked with a method only a templated one has, then 405, not the templated route", async () => {
    const draft = { ...operations[0], path: "/things/draft", operationId: "createDraft" } as OperationSpec;
    let reachedTemplated = false;
    const app = buildApp({
      openApi: { ...api, operations: [...operations, draft] },
      routes: (routes) => {
        routes.post("/things", (_req, res) => ok(res));
        routes.get("/things", (_req, res) => ok(res));
        routes.get("/things/first", (_req, res) => ok(res));
        routes.post("/things/draft", (_req, res) => ok(res));
        routes.get("/things/:thingId", (_req, res) => {
          reachedTemplated = true;
          ok(res);
        });
      },
    });
    const res = await request(app).get("/things/draft");
    expect([res.status, res.headers.allow]).toEqual([405, "POST, OPTIONS"]);
    expect(reachedTemplated).toBe(false);
  });

  it("when OPTIONS is asked, then 204 with the documented methods", async () => {
    const res = await request(buildApp()).options("/things");
    expect([res.status, res.headers.allow]).toEqual([204, "POST, GET, HEAD, OPTIONS"]);
  });

  it("when a path is not documented, then 404 whatever the method", async () => {
    const res = await request(buildApp()).delete("/nothing");
    expect([res.status, res.body.code]).toEqual([404, "ROUTE_NOT_FOUND"]);
  });
});
