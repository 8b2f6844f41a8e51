import { createHttpApp, type ReadinessCheck } from "@coupon/http";
import type { Logger } from "@coupon/logging";
import type { Express } from "express";
import type { Registry } from "prom-client";

export interface AppDeps {
  logger: Logger;
  registry: Registry;
  isAccepting: () => boolean;
  readinessChecks: Record<string, ReadinessCheck>;
}

export function buildApp(deps: AppDeps): Express {
  return createHttpApp({ service: "issue-consumer", ...deps, routes: () => {} });
}
