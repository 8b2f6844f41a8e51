import type { JwtVerifier } from "@coupon/auth";
import { createHttpApp, type HttpApp, type ServiceAppDeps } from "@coupon/http";
import { Counter } from "prom-client";
import type { IssueCoupon } from "./domain/issue-coupon.ts";
import { couponIssueRoute } from "./routes/coupon-issues.ts";
import { issueApi } from "./routes/openapi.ts";

export interface AppDeps extends ServiceAppDeps {
  verifier: JwtVerifier;
  issueCoupon: IssueCoupon;
  /** What GET /metrics serves when this process is one of several HTTP workers. */
  metrics?: () => Promise<string>;
}

export function buildApp(deps: AppDeps): HttpApp {
  const outcomes = new Counter({
    name: "coupon_issue_outcomes_total",
    help: "Issuance requests by outcome",
    labelNames: ["outcome"] as const,
    registers: [deps.registry],
  });
  return createHttpApp({
    service: "issue",
    ...deps,
    openApi: issueApi,
    jsonRoutes: [couponIssueRoute({ verifier: deps.verifier, issueCoupon: deps.issueCoupon, outcomes })],
  });
}
