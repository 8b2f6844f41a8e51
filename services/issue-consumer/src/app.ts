import { createHttpApp, type HttpApp, type ReadinessCheck } from "@coupon/http";
import type { Logger } from "@coupon/logging";
import type { Registry } from "prom-client";

export interface AppDeps {
  logger: Logger;
  registry: Registry;
  isAccepting: () => boolean;
  readinessChecks: Record<string, ReadinessCheck>;
}

/** Its work comes from Kafka: the HTTP routes are the probes, the metrics and the document. */
export function buildApp(deps: AppDeps): HttpApp {
  return createHttpApp({
    service: "issue-consumer",
    ...deps,
    openApi: { title: "Issue consumer", version: "1.0.0", operations: [] },
  });
}
