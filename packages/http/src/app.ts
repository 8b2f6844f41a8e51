import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "@coupon/logging";
import { runWithLogContext } from "@coupon/logging";
import { AppError, type ProblemDetails, problemType, ServiceUnavailableError } from "@coupon/problems";
import { context } from "@opentelemetry/api";
import express, { type Express } from "express";
import { collectDefaultMetrics, Histogram, type Registry } from "prom-client";
import {
  type JsonRoute,
  parseJsonBody,
  plainJsonBodyLength,
  readBody,
  sendAnswer,
  sendProblem,
} from "./json-route.ts";
import {
  type ApiSpec,
  documentedMethods,
  documentedRoutes,
  type OpenApiDocument,
  openApiDocument,
  servedRoutes,
} from "./openapi.ts";
import { startServerSpan } from "./server-span.ts";

/** A service's HTTP handler, for node:http's createServer (or supertest). */
export type HttpApp = (req: IncomingMessage, res: ServerResponse) => void;

/** A dependency check for /readyz: resolves when the dependency answers, rejects otherwise. */
export type ReadinessCheck = () => Promise<unknown>;

export interface HttpAppOptions {
  service: string;
  logger: Logger;
  registry: Registry;
  readinessChecks?: Record<string, ReadinessCheck>;
  /** False once shutdown has begun, so load balancers stop sending traffic before the server closes. */
  isAccepting?: () => boolean;
  bodyLimitBytes?: number;
  readinessTimeoutMs?: number;
  /**
   * Tells, by dependency name, whether an error means that dependency is unreachable: such an
   * error is answered 503 with Retry-After (and logged as a warning), not 500.
   */
  unavailableWhen?: Record<string, (error: unknown) => boolean>;
  /** What GET /metrics serves; the registry's metrics unless the process is one of several (a cluster). */
  metrics?: () => Promise<string>;
  routes?: (app: Express) => void;
  /** Hot routes, served without Express in the common case (see JsonRoute). */
  jsonRoutes?: JsonRoute[];
  /**
   * The service's routes, described for GET /openapi.json. The app refuses to build when they
   * are not exactly the routes it serves, so a route cannot go undocumented.
   */
  openApi?: ApiSpec;
}

/** What every service's composition root hands its app: the rest is the service's own. */
export type ServiceAppDeps = Required<
  Pick<HttpAppOptions, "logger" | "registry" | "isAccepting" | "readinessChecks">
>;

const REQUEST_ID = /^[\w.:-]{1,128}$/;
/** Probes and scrapes: not traced (they would be most of the spans and say nothing), logged at debug. */
const OPERATIONAL_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);
const JSON_TYPES = ["application/json", "application/*+json"];

function problem(status: number, code: string, title: string, detail: string, instance: string) {
  return { type: problemType(code), title, status, detail, code, instance };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers["x-request-id"];
  return typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

type Duration = Histogram<"method" | "route" | "status">;

/**
 * Starts a request's context and runs it: the request id (echoed or made), its server span, the log
 * context that carries the id, and once the answer is sent the duration histogram and one log line.
 */
type InRequestContext = (
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  /** The route the request matched, once it is known; undefined when none did. */
  route: () => string | undefined,
  run: (requestId: string) => void,
) => void;

function requestContext(logger: Logger, duration: Duration): InRequestContext {
  return (req, res, path, route, run) => {
    const requestId = requestIdOf(req);
    res.setHeader("x-request-id", requestId);
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const method = req.method ?? "";
      duration.observe({ method, route: route() ?? "unmatched", status: String(res.statusCode) }, seconds);
      const entry = { method, path, status: res.statusCode, duration_ms: Math.round(seconds * 1e4) / 10 };
      if (OPERATIONAL_PATHS.has(path)) logger.debug(entry, "request");
      else if (res.statusCode >= 500) logger.error(entry, "request");
      else logger.info(entry, "request");
    });
    const inRequest = () => runWithLogContext({ request_id: requestId }, () => run(requestId));
    if (OPERATIONAL_PATHS.has(path)) inRequest();
    else context.with(startServerSpan(req, res, path, route, requestId), inRequest);
  };
}

/**
 * Requests that carry a body must say it is JSON: a form or text body would otherwise reach the
 * routes as an empty object and be answered as missing fields instead of as the wrong format.
 */
const requireJsonBody: express.RequestHandler = (req, res, next) => {
  const hasBody = req.get("transfer-encoding") !== undefined || Number(req.get("content-length") ?? 0) > 0;
  if (!hasBody || req.is(JSON_TYPES)) return next();
  sendProblem(
    res,
    problem(
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "Unsupported media type",
      `expected a JSON body (Content-Type: application/json), got ${req.get("content-type") ?? "no content type"}`,
      req.originalUrl,
    ),
    { "accept-post": "application/json" },
  );
};

/**
 * A method the document does not give a path it describes is answered 405 with Allow (RFC 9110),
 * and OPTIONS with Allow alone. Decided by the document, not by Express's routes, so that GET
 * /users/login is refused instead of reaching GET /users/:userId.
 */
function allowedMethods(document: OpenApiDocument): express.RequestHandler {
  const methodsOf = documentedMethods(document);
  return (req, res, next) => {
    const methods = methodsOf(req.path);
    const method = req.method.toLowerCase();
    // Express answers HEAD with the GET route.
    if (methods === undefined || methods.includes(method) || (method === "head" && methods.includes("get"))) {
      return next();
    }
    const allow = [...methods, ...(methods.includes("get") ? ["head"] : []), "options"]
      .map((m) => m.toUpperCase())
      .join(", ");
    if (method === "options") {
      res.set("allow", allow).status(204).end();
      return;
    }
    sendProblem(
      res,
      problem(
        405,
        "METHOD_NOT_ALLOWED",
        "Method not allowed",
        `${req.method} is not allowed on ${req.path}; allowed: ${allow}`,
        req.originalUrl,
      ),
      { allow },
    );
  };
}

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
  message?: string;
}

function bodyParserProblem(error: BodyParserError, instance: string): ProblemDetails | undefined {
  switch (error.type) {
    case "entity.parse.failed":
      return problem(400, "MALFORMED_JSON", "Malformed JSON", "the request body is not valid JSON", instance);
    case "entity.too.large":
      return problem(
        413,
        "PAYLOAD_TOO_LARGE",
        "Payload too large",
        "the request body is too large",
        instance,
      );
    case "encoding.unsupported":
    case "charset.unsupported":
      return problem(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Unsupported media type",
        String(error.message),
        instance,
      );
    default:
      if (error.expose && error.status !== undefined && error.status >= 400 && error.status < 500) {
        return problem(error.status, "BAD_REQUEST", "Bad request", String(error.message), instance);
      }
      return undefined;
  }
}

/** The code of the 503 that answers an outage of a dependency named in unavailableWhen. */
const outageCode = (dependency: string) => `${dependency.toUpperCase()}_UNAVAILABLE`;

type ProblemFor = (
  error: unknown,
  instance: string,
) => { problem: ProblemDetails; headers?: Record<string, string> };

/**
 * The answer to a request that failed: an AppError's own, a dependency's outage as 503, and
 * anything else but an expected client error logged as a crash.
 */
function problemsFor(
  logger: Logger,
  unavailableWhen: Record<string, (error: unknown) => boolean>,
): ProblemFor {
  const dependencies = Object.entries(unavailableWhen);
  return (error, instance) => {
    if (error instanceof AppError) return { problem: error.toProblem(instance), headers: error.headers };
    const parserProblem = bodyParserProblem(error as BodyParserError, instance);
    if (parserProblem) return { problem: parserProblem };
    const unavailable = dependencies.find(([, isUnavailable]) => isUnavailable(error))?.[0];
    if (unavailable !== undefined) {
      logger.warn({ err: error, dependency: unavailable }, "dependency unavailable");
      const outage = new ServiceUnavailableError(
        outageCode(unavailable),
        "Service unavailable",
        `the ${unavailable} is unavailable; retry shortly`,
      );
      return { problem: outage.toProblem(instance), headers: outage.headers };
    }
    return crashProblem(error, instance, logger);
  };
}

function crashProblem(error: unknown, instance: string, logger: Logger): { problem: ProblemDetails } {
  logger.error({ err: error }, "unhandled error");
  return {
    problem: problem(
      500,
      "INTERNAL_ERROR",
      "Internal server error",
      "an unexpected error occurred",
      instance,
    ),
  };
}

function serveJsonRoute(
  route: JsonRoute,
  bodyLength: number,
  req: IncomingMessage,
  res: ServerResponse,
  inRequestContext: InRequestContext,
  problemFor: ProblemFor,
): void {
  inRequestContext(
    req,
    res,
    route.path,
    () => route.path,
    (requestId) => {
      readBody(req, bodyLength)
        .then((raw) => route.handle({ body: parseJsonBody(raw), headers: req.headers, requestId }))
        .then((answer) => sendAnswer(res, answer))
        .catch((error: unknown) => {
          // The client is gone (its body never arrived): nobody to answer.
          if (res.destroyed) return;
          const { problem, headers } = problemFor(error, route.path);
          if (res.headersSent) res.destroy();
          else sendProblem(res, problem, headers);
        });
    },
  );
}

/** The Express app every service starts from: operational endpoints, JSON parsing and problem+json errors. */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { logger, registry, readinessChecks = {}, isAccepting = () => true, jsonRoutes = [] } = options;
  const bodyLimitBytes = options.bodyLimitBytes ?? 16 * 1024;
  const problemFor = problemsFor(logger, options.unavailableWhen ?? {});
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  const inRequestContext = requestContext(logger, duration);
  app.use((req, res, next) => {
    const route = () => (req.route?.path ? `${req.baseUrl}${req.route.path}` : undefined);
    inRequestContext(req, res, req.path, route, () => next());
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok", service: options.service });
  });

  app.get("/readyz", async (req, res) => {
    if (!isAccepting()) {
      return sendProblem(
        res,
        problem(503, "SHUTTING_DOWN", "Not ready", "the service is shutting down", req.originalUrl),
      );
    }
    const timeoutMs = options.readinessTimeoutMs ?? 2000;
    const names = Object.keys(readinessChecks);
    const results = await Promise.allSettled(
      names.map((name) => withTimeout(Promise.resolve().then(readinessChecks[name]), timeoutMs)),
    );
    const checks: Record<string, string> = {};
    results.forEach((result, i) => {
      checks[names[i] as string] =
        result.status === "fulfilled" ? "ok" : String(result.reason?.message ?? result.reason);
    });
    const failed = names.filter((_, i) => results[i]?.status === "rejected");
    if (failed.length === 0) return res.json({ status: "ok", checks });
    sendProblem(res, {
      ...problem(
        503,
        "DEPENDENCY_UNAVAILABLE",
        "Not ready",
        `unavailable: ${failed.join(", ")}`,
        req.originalUrl,
      ),
      checks,
    });
  });

  const metrics = options.metrics ?? (() => registry.metrics());
  app.get("/metrics", async (_req, res) => {
    res.type(registry.contentType).send(await metrics());
  });

  const outages = Object.keys(options.unavailableWhen ?? {}).map(outageCode);
  const document =
    options.openApi &&
    openApiDocument(
      options.service,
      options.openApi,
      outages.length === 0
        ? {}
        : { 503: { codes: outages, headers: { "Retry-After": "seconds to wait before retrying" } } },
    );
  if (document) {
    const body = JSON.stringify(document);
    app.get("/openapi.json", (_req, res) => {
      res.type("application/json").send(body);
    });
    app.use(allowedMethods(document));
  }

  app.use(requireJsonBody);
  app.use(express.json({ limit: bodyLimitBytes, type: JSON_TYPES }));

  for (const route of jsonRoutes) {
    app[route.method.toLowerCase() as "post" | "put" | "patch"](route.path, async (req, res) => {
      const requestId = String(res.getHeader("x-request-id"));
      sendAnswer(res, await route.handle({ body: req.body, headers: req.headers, requestId }));
    });
  }
  options.routes?.(app);
  if (document) {
    const served = servedRoutes(app);
    const documented = documentedRoutes(document);
    const undocumented = served.filter((route) => !documented.includes(route));
    const unserved = documented.filter((route) => !served.includes(route));
    if (undocumented.length > 0 || unserved.length > 0) {
      throw new Error(
        `the OpenAPI document of ${options.service} does not match its routes: ` +
          `undocumented [${undocumented.join(", ")}], documented but not served [${unserved.join(", ")}]`,
      );
    }
  }

  app.use((req, res) => {
    sendProblem(
      res,
      problem(404, "ROUTE_NOT_FOUND", "Not found", `no route for ${req.method} ${req.path}`, req.originalUrl),
    );
  });
  app.use(((error, req, res, next) => {
    if (res.headersSent) return next(error);
    const { problem, headers } = problemFor(error, req.originalUrl);
    sendProblem(res, problem, headers);
  }) satisfies express.ErrorRequestHandler);
  if (jsonRoutes.length === 0) return app;

  const direct = new Map(jsonRoutes.map((route) => [`${route.method} ${route.path}`, route]));
  return (req, res) => {
    const route = direct.get(`${req.method} ${req.url}`);
    const bodyLength = route && plainJsonBodyLength(req.headers, bodyLimitBytes);
    if (route && bodyLength !== undefined) {
      serveJsonRoute(route, bodyLength, req, res, inRequestContext, problemFor);
    } else app(req, res);
  };
}
