// OpenTelemetry for a service process, configured only by the standard OTEL_* variables. Started
// by ./register.ts (node --import @coupon/telemetry/register), before the app's modules load.
import { ExpressInstrumentation } from "@opentelemetry/instrumentation-express";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { KafkaJsInstrumentation } from "@opentelemetry/instrumentation-kafkajs";
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici";
import { NodeSDK } from "@opentelemetry/sdk-node";
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { PrismaInstrumentation } from "@prisma/instrumentation";

/** The modules the instrumentations patch when they are imported (the loader hook's include list). */
export const INSTRUMENTED_MODULES = ["express", "ioredis", "kafkajs"];

/** Probes and scrapes are not traced: they would be most of the spans and say nothing. */
const UNTRACED_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

type Env = Record<string, string | undefined>;

/**
 * Whether spans have somewhere to go: an OTLP endpoint, or an exporter named in
 * OTEL_TRACES_EXPORTER. Otherwise the SDK is not started at all, so a process without telemetry
 * pays nothing for it.
 */
export function tracesWanted(env: Env = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === "true") return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporter) return exporter !== "none";
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

export function instrumentations() {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? "").split("?")[0] ?? ""),
    }),
    new ExpressInstrumentation(),
    new UndiciInstrumentation(),
    new IORedisInstrumentation(),
    new KafkaJsInstrumentation(),
    new PrismaInstrumentation(),
  ];
}

let running: NodeSDK | undefined;

/**
 * Starts the SDK: traces only (metrics stay with prom-client on /metrics, logs with pino on
 * stdout), exported as OTEL_* says unless span processors are given (tests).
 */
export function startTelemetry(options: { spanProcessors?: SpanProcessor[] } = {}): void {
  // The SDK reads these itself; unset, it would start OTLP exporters for metrics and logs too.
  process.env.OTEL_METRICS_EXPORTER ??= "none";
  process.env.OTEL_LOGS_EXPORTER ??= "none";
  running = new NodeSDK({
    instrumentations: instrumentations(),
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
  });
  running.start();
}

/** Exports what is buffered and stops; the last step of a graceful shutdown. Nothing to do if never started. */
export async function shutdownTelemetry(): Promise<void> {
  const sdk = running;
  running = undefined;
  await sdk?.shutdown();
}
