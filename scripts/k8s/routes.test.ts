// The edges route what the services serve: every public route of the user, coupon and issue services
// reaches its service through the chart's Envoy Gateway HTTPRoutes and through the local nginx
// (infra/edge/nginx.conf.template), behind a JWT exactly when the route takes a token, and neither
// edge routes a path that no service serves or exposes a service's operational routes.
//
// The route tables are the services' ApiSpecs, the documents their /openapi.json serves:
// createHttpApp refuses to build an app whose routes differ from its document, so a route added to
// a service is in its ApiSpec, and then here.
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { couponApi } from "../../services/coupon/src/routes/openapi.ts";
import { issueApi } from "../../services/issue/src/routes/openapi.ts";
import { userApi } from "../../services/user/src/routes/openapi.ts";
import { type K8sObject, render, repoRoot } from "./helm.ts";

const SERVICES: Record<string, typeof userApi> = { user: userApi, coupon: couponApi, issue: issueApi };
/** What createHttpApp serves on every service itself: for the cluster's probes and Prometheus only. */
const OPERATIONAL_PATHS = ["/healthz", "/readyz", "/metrics", "/openapi.json"];

interface Route {
  service: string;
  method: string;
  /** Express syntax, "/coupons/:couponId". */
  path: string;
  needsToken: boolean;
}

const serviceRoutes: Route[] = Object.entries(SERVICES).flatMap(([service, spec]) =>
  spec.operations.map((op) => ({
    service,
    method: op.method.toUpperCase(),
    path: op.path,
    needsToken: op.auth !== undefined,
  })),
);

/** A request path the route answers: each parameter given a value its schema accepts. */
const samplePath = (route: Route) => route.path.replace(/:\w+/g, "1");
const routePattern = (route: Route) => new RegExp(`^${route.path.replace(/:\w+/g, "[^/]+")}$`);

// ---- Gateway API (HTTPRoute) matching, as the spec defines it -----------------------------------

interface HttpRouteMatch {
  path?: { type?: string; value?: string };
  method?: string;
  headers?: unknown[];
  queryParams?: unknown[];
}
interface GatewayRule {
  route: string;
  protected: boolean;
  service: string;
  match: { type: "Exact" | "PathPrefix"; value: string; method: string | undefined };
}

/** Each match of each HTTPRoute rule, with the component its backend is and whether a JWT guards it. */
function gatewayRules(objects: K8sObject[]): GatewayRule[] {
  const componentOf = new Map(
    objects
      .filter((o) => o.kind === "Service")
      .map((o) => [o.metadata.name, o.metadata.labels?.["app.kubernetes.io/component"] ?? "?"]),
  );
  const guarded = new Set(
    objects
      .filter((o) => o.kind === "SecurityPolicy" && (o.spec as { jwt?: unknown }).jwt !== undefined)
      .flatMap((o) => (o.spec as { targetRefs: { kind: string; name: string }[] }).targetRefs)
      .filter((ref) => ref.kind === "HTTPRoute")
      .map((ref) => ref.name),
  );
  return objects
    .filter((o) => o.kind === "HTTPRoute")
    .flatMap((route) =>
      (
        route.spec as { rules: { matches?: HttpRouteMatch[]; backendRefs?: { name: string }[] }[] }
      ).rules.flatMap((rule) => {
        const backends = (rule.backendRefs ?? []).map((ref) => componentOf.get(ref.name) ?? ref.name);
        if (backends.length !== 1) {
          throw new Error(`${route.metadata.name}: a rule with backends [${backends}] is not one service`);
        }
        return (rule.matches ?? [{}]).map((m) => {
          // Header and query matches would make a path reachable for some requests only.
          if (m.headers !== undefined || m.queryParams !== undefined) {
            throw new Error(`${route.metadata.name}: header and query matches are not checked here`);
          }
          const type = m.path?.type ?? "PathPrefix";
          if (type !== "Exact" && type !== "PathPrefix") {
            throw new Error(`${route.metadata.name}: ${type} path matches are not checked here`);
          }
          return {
            route: route.metadata.name,
            protected: guarded.has(route.metadata.name),
            service: backends[0] as string,
            match: { type, value: m.path?.value ?? "/", method: m.method },
          };
        });
      }),
    );
}

function gatewayMatches(match: GatewayRule["match"], method: string, requestPath: string): boolean {
  if (match.method !== undefined && match.method !== method) return false;
  if (match.type === "Exact") return requestPath === match.value;
  // Element by element, a trailing "/" ignored: /coupons/ matches /coupons and /coupons/1, not /couponsx.
  const prefix = match.value.replace(/\/+$/, "");
  return prefix === "" || requestPath === prefix || requestPath.startsWith(`${prefix}/`);
}

/** The rule Envoy Gateway picks: an exact path first, then the longest prefix, then a method match. */
function gatewayRoute(rules: GatewayRule[], method: string, requestPath: string): GatewayRule | undefined {
  const rank = (r: GatewayRule) =>
    (r.match.type === "Exact" ? 1e6 : 0) +
    r.match.value.replace(/\/+$/, "").length * 2 +
    (r.match.method ? 1 : 0);
  return rules
    .filter((r) => gatewayMatches(r.match, method, requestPath))
    .sort((a, b) => rank(b) - rank(a))[0];
}

/** What is wrong with the Gateway's routes against the services' route tables, one line a fault. */
function gatewayFaults(rules: GatewayRule[], routes: Route[]): string[] {
  const faults: string[] = [];
  for (const route of routes) {
    const name = `${route.method} ${route.path} (${route.service})`;
    const rule = gatewayRoute(rules, route.method, samplePath(route));
    if (rule === undefined) faults.push(`${name}: no HTTPRoute`);
    else if (rule.service !== route.service)
      faults.push(`${name}: routed to ${rule.service} by ${rule.route}`);
    else if (rule.protected !== route.needsToken) {
      faults.push(
        `${name}: ${route.needsToken ? "takes a token but" : "is public but"} ${rule.route} is ${rule.protected ? "" : "not "}behind the JWT policy`,
      );
    }
  }
  for (const rule of rules) {
    const served = routes.some(
      (r) =>
        r.service === rule.service &&
        (rule.match.method === undefined || rule.match.method === r.method) &&
        (rule.match.type === "Exact"
          ? routePattern(r).test(rule.match.value)
          : gatewayMatches(rule.match, r.method, samplePath(r))),
    );
    if (!served) {
      faults.push(
        `${rule.route}: ${rule.match.method ?? "any"} ${rule.match.type} ${rule.match.value} matches no route of ${rule.service}`,
      );
    }
  }
  return faults;
}

// ---- nginx location matching --------------------------------------------------------------------

interface NginxLocation {
  exact: boolean;
  path: string;
  upstream: string | undefined;
}

function nginxLocations(config: string): NginxLocation[] {
  const locations: NginxLocation[] = [];
  for (const [, modifier, where, body] of config.matchAll(/location\s+(?:(\S+)\s+)?(\S+)\s*\{([^}]*)\}/g)) {
    if (where?.startsWith("@")) continue;
    if (modifier !== undefined && modifier !== "=") {
      throw new Error(`location ${modifier} ${where}: only exact and prefix locations are checked here`);
    }
    locations.push({
      exact: modifier === "=",
      path: where as string,
      upstream: /proxy_pass\s+http:\/\/(\w+)/.exec(body ?? "")?.[1],
    });
  }
  return locations;
}

/** nginx's choice without regular expressions: the exact location, else the longest prefix. */
function nginxLocation(locations: NginxLocation[], requestPath: string): NginxLocation | undefined {
  return (
    locations.find((l) => l.exact && l.path === requestPath) ??
    locations
      .filter((l) => !l.exact && requestPath.startsWith(l.path))
      .sort((a, b) => b.path.length - a.path.length)[0]
  );
}

function nginxFaults(locations: NginxLocation[], routes: Route[]): string[] {
  const faults: string[] = [];
  for (const route of routes) {
    const location = nginxLocation(locations, samplePath(route));
    if (location?.upstream !== route.service) {
      faults.push(
        `${route.method} ${route.path} (${route.service}): location ${location?.path ?? "none"} ${location?.upstream ? `proxies to ${location.upstream}` : "proxies nowhere"}`,
      );
    }
  }
  for (const location of locations.filter((l) => l.upstream !== undefined)) {
    const served = routes.some(
      (r) => r.service === location.upstream && nginxLocation(locations, samplePath(r)) === location,
    );
    if (!served)
      faults.push(`location ${location.path}: proxies to ${location.upstream}, where no route is its`);
  }
  return faults;
}

// ---- the checks ---------------------------------------------------------------------------------

const nginxConfig = readFileSync(path.join(repoRoot, "infra", "edge", "nginx.conf.template"), "utf8");

describe("the edge routes every public route of the services", () => {
  let objects: K8sObject[];
  beforeAll(() => {
    objects = render();
  });

  it("when the services' route tables are read, then they hold the routes the edge must serve", () => {
    expect(serviceRoutes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(["GET /users/me", "GET /users/:userId", "PATCH /coupons/:couponId"]),
    );
  });

  it("when the chart's HTTPRoutes are compared with the route tables, then each route reaches its service, behind the JWT policy exactly when it takes a token", () => {
    expect(gatewayFaults(gatewayRules(objects), serviceRoutes)).toEqual([]);
  });

  it("when the nginx locations are compared with the route tables, then each route reaches its service", () => {
    expect(nginxFaults(nginxLocations(nginxConfig), serviceRoutes)).toEqual([]);
  });

  it("when an operational path is asked for at either edge, then neither routes it", () => {
    const rules = gatewayRules(objects);
    const locations = nginxLocations(nginxConfig);
    for (const operational of OPERATIONAL_PATHS) {
      expect(gatewayRoute(rules, "GET", operational), operational).toBeUndefined();
      expect(nginxLocation(locations, operational)?.upstream, operational).toBeUndefined();
    }
  });
});

describe("the route check itself", () => {
  let rules: GatewayRule[];
  beforeAll(() => {
    rules = gatewayRules(render());
  });

  it("when the HTTPRoute rule of GET /users/{userId} is gone, then the check names both user routes it served", () => {
    const without = rules.filter((r) => !(r.match.method === "GET" && r.match.value === "/users/"));
    expect(without.length).toBe(rules.length - 1);
    expect(gatewayFaults(without, serviceRoutes)).toEqual([
      "GET /users/me (user): no HTTPRoute",
      "GET /users/:userId (user): no HTTPRoute",
    ]);
  });

  it("when a route that takes a token is moved to the public HTTPRoute, then the check says it is unguarded", () => {
    const moved = rules.map((r) => (r.match.value === "/coupon-issues" ? { ...r, protected: false } : r));
    expect(gatewayFaults(moved, serviceRoutes)).toEqual([
      "POST /coupon-issues (issue): takes a token but coupon-platform-gateway-protected is not behind the JWT policy",
    ]);
  });

  it("when a service route has no route at an edge, then the check names it", () => {
    const added: Route = { service: "coupon", method: "DELETE", path: "/events/:eventId", needsToken: true };
    expect(gatewayFaults(rules, [...serviceRoutes, added])).toEqual([
      "DELETE /events/:eventId (coupon): no HTTPRoute",
    ]);
    const nginxWithoutEvents = nginxConfig.replace(/location \/events \{[^}]*\}/, "");
    expect(nginxFaults(nginxLocations(nginxWithoutEvents), serviceRoutes)).toEqual([
      "POST /events (coupon): location / proxies nowhere",
    ]);
  });

  it("when an HTTPRoute rule matches nothing its service serves, then the check names it", () => {
    const stray: GatewayRule = {
      route: "coupon-platform-gateway-public",
      protected: false,
      service: "issue",
      match: { type: "PathPrefix", value: "/issues/", method: "GET" },
    };
    expect(gatewayFaults([...rules, stray], serviceRoutes)).toEqual([
      "coupon-platform-gateway-public: GET PathPrefix /issues/ matches no route of issue",
    ]);
  });
});
