import { createHttpApp, type HttpApp, type ServiceAppDeps } from "@coupon/http";

export type AppDeps = ServiceAppDeps;

/** Its work comes from Kafka: the HTTP routes are the probes, the metrics and the document. */
export function buildApp(deps: AppDeps): HttpApp {
  return createHttpApp({
    service: "issue-consumer",
    ...deps,
    openApi: { title: "Issue consumer", version: "1.0.0", operations: [] },
  });
}
