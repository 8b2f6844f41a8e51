import { STATUS_CODES } from "node:http";
import { type ProblemSpec, type Problems, problemType } from "@coupon/problems";
import type { Express } from "express";
import { z } from "zod";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

export interface SuccessSpec {
  description: string;
  body: z.ZodType;
  /** application/json unless said otherwise. */
  contentType?: string;
  headers?: Readonly<Record<string, string>>;
}

/** What a route needs besides its input: a bearer token, with the problems its checks answer. */
export interface AuthSpec {
  problems: Problems;
}

/**
 * One route, described with the zod schemas the route itself validates with, so that the document
 * cannot describe other input than the route accepts.
 */
export interface OperationSpec {
  method: HttpMethod;
  /** As registered with Express: "/coupons/:couponId". */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  auth?: AuthSpec;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Readonly<Record<number, SuccessSpec>>;
  /** The route's own problem answers; those of its input and auth are added. */
  problems?: Problems;
}

export interface ApiSpec {
  title: string;
  version: string;
  description?: string;
  operations: readonly OperationSpec[];
}

export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, unknown>> };

const PROBLEM_JSON = "application/problem+json";
const BEARER_SCHEME = "bearerAuth";

const fieldError = z.object({ field: z.string(), message: z.string() });

/** The body of a problem answer (RFC 9457) of one status with one of the given codes. */
function problemBody(status: number, codes: readonly string[]) {
  return z.looseObject({
    type: z.enum(codes.map(problemType)),
    title: z.string(),
    status: z.literal(status),
    detail: z.string(),
    code: z.enum(codes),
    instance: z.string().optional(),
    errors: z.array(fieldError).optional().describe("the offending fields, for a request to correct"),
  });
}

/**
 * What createHttpApp answers for a bad body on every route it serves after its body parser (any
 * method: a GET with a form body is refused too): express.json's failures, and parseInput's.
 */
const BODY_PROBLEMS: Problems = {
  400: { codes: ["MALFORMED_JSON", "BAD_REQUEST"] },
  413: { codes: ["PAYLOAD_TOO_LARGE"] },
  415: {
    codes: ["UNSUPPORTED_MEDIA_TYPE"],
    headers: { "Accept-Post": "the media type a body must have: application/json" },
  },
};
const INPUT_PROBLEMS: Problems = { 400: { codes: ["VALIDATION_FAILED"] } };

function mergeProblems(...sets: (Problems | undefined)[]): Map<number, Required<ProblemSpec>> {
  const merged = new Map<number, { codes: Set<string>; headers: Record<string, string> }>();
  for (const set of sets) {
    for (const [status, spec] of Object.entries(set ?? {})) {
      if (spec === undefined) continue;
      const entry = merged.get(Number(status)) ?? { codes: new Set<string>(), headers: {} };
      for (const code of spec.codes) entry.codes.add(code);
      Object.assign(entry.headers, spec.headers);
      merged.set(Number(status), entry);
    }
  }
  return new Map(
    [...merged]
      .sort(([a], [b]) => a - b)
      .map(([status, { codes, headers }]) => [status, { codes: [...codes], headers }]),
  );
}

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect) of what a schema accepts ("input") or produces. */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    target: "draft-2020-12",
    ...(io === "input" ? { override: withStringPipeRules } : {}),
  });
  return rest;
}

/**
 * A pipe from a string into a string schema (normalise, then check: trim and lower-case an email,
 * NFKC a password) is described by its input side alone as "any string". Its rules are what a
 * client must meet, so they are added; they hold up to the normalisation.
 */
function withStringPipeRules(ctx: { zodSchema: z.core.$ZodTypes; jsonSchema: Record<string, unknown> }) {
  const def = ctx.zodSchema._zod.def;
  if (def.type !== "pipe" || def.out._zod.def.type !== "string") return;
  ctx.jsonSchema.allOf = [jsonSchema(def.out as z.ZodType, "input")];
}

function headersObject(headers: Readonly<Record<string, string>> | undefined) {
  if (headers === undefined || Object.keys(headers).length === 0) return {};
  return {
    headers: Object.fromEntries(
      Object.entries(headers).map(([name, description]) => [
        name,
        { description, schema: { type: "string" } },
      ]),
    ),
  };
}

const PATH_PARAMETER = /:(\w+)/g;

function openApiPath(expressPath: string): string {
  return expressPath.replace(PATH_PARAMETER, "{$1}");
}

function parameters(operation: OperationSpec): unknown[] {
  const { path, params, query } = operation;
  const inPath = [...path.matchAll(PATH_PARAMETER)].map((match) => match[1]);
  const declared = Object.keys(params?.shape ?? {});
  if (inPath.join() !== declared.join()) {
    throw new Error(
      `${operation.operationId}: path ${path} has parameters [${inPath.join(", ")}], its params schema [${declared.join(", ")}]`,
    );
  }
  const of = (schema: z.ZodObject | undefined, where: "path" | "query") => {
    if (schema === undefined) return [];
    const object = jsonSchema(schema, "input") as {
      properties?: Record<string, unknown>;
      required?: string[];
    };
    return Object.entries(object.properties ?? {}).map(([name, property]) => ({
      name,
      in: where,
      required: where === "path" || (object.required ?? []).includes(name),
      schema: property,
    }));
  };
  return [...of(params, "path"), ...of(query, "query")];
}

/** `appProblems`: what the app answers for the route whatever it does. */
function operationObject(operation: OperationSpec, appProblems: readonly Problems[]) {
  const takesInput =
    operation.body !== undefined || operation.params !== undefined || operation.query !== undefined;
  const problems = mergeProblems(
    ...appProblems,
    takesInput ? INPUT_PROBLEMS : undefined,
    operation.auth?.problems,
    operation.problems,
  );
  const responses: Record<string, unknown> = {};
  for (const [status, success] of Object.entries(operation.responses)) {
    responses[status] = {
      description: success.description,
      ...headersObject(success.headers),
      content: {
        [success.contentType ?? "application/json"]: { schema: jsonSchema(success.body, "output") },
      },
    };
  }
  for (const [status, { codes, headers }] of problems) {
    responses[status] = {
      description: `${STATUS_CODES[status]}: ${codes.join(", ")}`,
      ...headersObject(headers),
      content: { [PROBLEM_JSON]: { schema: jsonSchema(problemBody(status, codes), "output") } },
    };
  }
  const params = parameters(operation);
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    ...(operation.description === undefined ? {} : { description: operation.description }),
    ...(operation.auth === undefined ? {} : { security: [{ [BEARER_SCHEME]: [] }] }),
    ...(params.length === 0 ? {} : { parameters: params }),
    ...(operation.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            content: { "application/json": { schema: jsonSchema(operation.body, "input") } },
          },
        }),
    responses,
  };
}

/** The routes createHttpApp serves itself, before any of the service's. */
function operationalRoutes(service: string): OperationSpec[] {
  return [
    {
      method: "get",
      path: "/healthz",
      operationId: "liveness",
      summary: "Liveness: the process answers",
      responses: {
        200: {
          description: "alive",
          body: z.object({ status: z.literal("ok"), service: z.literal(service) }),
        },
      },
    },
    {
      method: "get",
      path: "/readyz",
      operationId: "readiness",
      summary: "Readiness: every dependency answers",
      responses: {
        200: {
          description: "ready; each dependency check and its result",
          body: z.object({ status: z.literal("ok"), checks: z.record(z.string(), z.string()) }),
        },
      },
      problems: { 503: { codes: ["SHUTTING_DOWN", "DEPENDENCY_UNAVAILABLE"] } },
    },
    {
      method: "get",
      path: "/metrics",
      operationId: "metrics",
      summary: "Prometheus metrics",
      responses: {
        200: { description: "the text exposition format", body: z.string(), contentType: "text/plain" },
      },
    },
    {
      method: "get",
      path: "/openapi.json",
      operationId: "openApiDocument",
      summary: "This document",
      responses: {
        200: { description: "OpenAPI 3.1", body: z.looseObject({ openapi: z.string() }) },
      },
    },
  ];
}

/**
 * The OpenAPI 3.1 document of a service built by createHttpApp: its own routes and the app's.
 * `everyRoute` are the problems the app's error handler gives any of the service's routes (an
 * outage of a dependency), besides those of the body parser.
 */
export function openApiDocument(service: string, spec: ApiSpec, everyRoute: Problems = {}): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  const all = [
    ...operationalRoutes(service).map((operation) => ({ operation, appProblems: [] })),
    ...spec.operations.map((operation) => ({ operation, appProblems: [BODY_PROBLEMS, everyRoute] })),
  ];
  for (const { operation, appProblems } of all) {
    const path = openApiPath(operation.path);
    paths[path] ??= {};
    if (paths[path][operation.method] !== undefined) {
      throw new Error(`${operation.method.toUpperCase()} ${operation.path} is described twice`);
    }
    paths[path][operation.method] = operationObject(operation, appProblems);
  }
  const secured = spec.operations.some((operation) => operation.auth !== undefined);
  return {
    openapi: "3.1.1",
    info: {
      title: spec.title,
      version: spec.version,
      ...(spec.description === undefined ? {} : { description: spec.description }),
    },
    paths,
    ...(secured
      ? {
          components: {
            securitySchemes: {
              [BEARER_SCHEME]: {
                type: "http",
                scheme: "bearer",
                bearerFormat: "JWT",
                description: "an RS256 access token from the user service's POST /users/login",
              },
            },
          },
        }
      : {}),
  };
}

const REGEXP_SPECIAL = /[.*+?^${}()|[\]\\/-]/g;

/**
 * The methods a document gives the path a request names, matched as OpenAPI matches: a concrete
 * path before a templated one (/users/login before /users/{userId}); as Express does, regardless
 * of case and with an optional trailing slash. Undefined when no documented path matches.
 */
export function documentedMethods(document: OpenApiDocument): (path: string) => string[] | undefined {
  const paths = Object.entries(document.paths)
    .map(([path, operations]) => ({
      templated: path.includes("{"),
      pattern: new RegExp(
        `^${path
          .split(/\{\w+\}/)
          .map((part) => part.replace(REGEXP_SPECIAL, "\\$&"))
          .join("[^/]+")}/?$`,
        "i",
      ),
      methods: Object.keys(operations),
    }))
    .sort((a, b) => Number(a.templated) - Number(b.templated));
  return (path) => paths.find(({ pattern }) => pattern.test(path))?.methods;
}

/** "GET /coupons/:couponId" for every operation of a document, in Express's path syntax. */
export function documentedRoutes(document: OpenApiDocument): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`),
    )
    .sort();
}

interface RouterLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle: { stack?: RouterLayer[] };
  slash: boolean;
  rawPath?: unknown;
}

function layerRoutes(stack: RouterLayer[], prefix: string): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const { path, methods } = layer.route;
      if (typeof path !== "string")
        throw new Error(`a route with the path ${String(path)} cannot be documented`);
      return Object.keys(methods).map((method) => `${method.toUpperCase()} ${prefix}${path}`);
    }
    if (layer.handle.stack === undefined) return [];
    if (!layer.slash && typeof layer.rawPath !== "string") {
      throw new Error(`a router mounted at ${String(layer.rawPath)} cannot be documented`);
    }
    return layerRoutes(layer.handle.stack, layer.slash ? prefix : `${prefix}${layer.rawPath}`);
  });
}

/** "GET /coupons/:couponId" for every route an Express app serves, from its router stack. */
export function servedRoutes(app: Express): string[] {
  return layerRoutes((app.router as unknown as { stack: RouterLayer[] }).stack, "").sort();
}
