// The OpenTelemetry SDK for a service process, configured only by the standard OTEL_* variables;
// started by ./register.ts (node --import @coupon/telemetry/register) before the app's modules load.
import type { Context, TextMapSetter } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { ExpressInstrumentation, ExpressLayerType } from "@opentelemetry/instrumentation-express";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { KafkaJsInstrumentation } from "@opentelemetry/instrumentation-kafkajs";
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici";
import { NodeSDK } from "@opentelemetry/sdk-node";
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { PrismaInstrumentation } from "@prisma/instrumentation";
import { whenShuttingDown } from "./index.ts";
import { CallerContextIORedisInstrumentation } from "./ioredis-caller-context.ts";
import { redisStatement } from "./redis-statement.ts";

/** The modules the instrumentations patch when they are imported (the loader hook's include list). */
export const INSTRUMENTED_MODULES = ["express", "ioredis", "kafkajs"];

export function instrumentations() {
  return [
    // Outgoing requests only: @coupon/http makes each request's server span, at a fraction of the cost.
    new HttpInstrumentation({ disableIncomingRequestInstrumentation: true }),
    // The route's handler only: a span for each middleware and router layer, five in every
    // request's trace, each a few microseconds long, said nothing the server span's route does not.
    new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER] }),
    new UndiciInstrumentation(),
    new CallerContextIORedisInstrumentation({ dbStatementSerializer: redisStatement }),
    new KafkaJsInstrumentation(),
    new PrismaInstrumentation(),
  ];
}

/**
 * W3C trace context that leaves a traceparent the code set itself: a Kafka record the relay
 * publishes carries the trace of the request that accepted it, not the relay's send (which
 * kafkajs's instrumentation would inject), so that its consumer links to that request.
 */
class ExplicitTraceparentFirst extends W3CTraceContextPropagator {
  override inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    if (typeof carrier === "object" && carrier !== null && Object.hasOwn(carrier, "traceparent")) return;
    super.inject(context, carrier, setter);
  }
}

/**
 * Starts the SDK: traces only (metrics stay with prom-client on /metrics, logs with pino on
 * stdout), exported as OTEL_* says unless span processors are given (tests).
 */
export function startTelemetry(options: { spanProcessors?: SpanProcessor[] } = {}): void {
  // The SDK reads these itself; unset, it would start OTLP exporters for metrics and logs too.
  process.env.OTEL_METRICS_EXPORTER ??= "none";
  process.env.OTEL_LOGS_EXPORTER ??= "none";
  // A relay batch's span links to every request it publishes (RELAY_BATCH_SIZE, 500 by default);
  // the SDK's default keeps the first 128 links and drops the rest without a word.
  process.env.OTEL_SPAN_LINK_COUNT_LIMIT ??= "10000";
  const sdk = new NodeSDK({
    instrumentations: instrumentations(),
    textMapPropagator: new ExplicitTraceparentFirst(),
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
  });
  sdk.start();
  whenShuttingDown(sdk);
}
