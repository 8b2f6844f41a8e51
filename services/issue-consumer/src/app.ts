import { createHttpApp, type HttpApp, type ReadinessCheck } from "@coupon/http";
import type { Logger } from "@coupon/logging";
import type { Registry } from "prom-client";

export interface AppDeps {
  logger: Logger;
  registry: Registry;
  isAccepting: () => boolean;
  readinessChecks: Record<string, ReadinessCheck>;
}

export function buildApp(deps: AppDeps): HttpApp {
  return createHttpApp({ service: "issue-consumer", ...deps });
}
