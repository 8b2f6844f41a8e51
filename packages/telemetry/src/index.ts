// What a service's own code uses of telemetry, without loading the SDK: a process whose OTEL_*
// names no exporter never loads it (see ./register.ts and ./sdk.ts).
import { context, type Link, propagation, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { suppressTracing } from "@opentelemetry/core";

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

/** A span link to the span a W3C traceparent names; none when it names none or nothing is traced. */
export function linkTo(traceparent: string | undefined): Link[] {
  if (!traceparent) return [];
  const linked = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent }));
  return linked ? [{ context: linked }] : [];
}

/** Runs `work` without spans of its own: the instrumentations of the libraries it calls record none. */
export function untraced<T>(work: () => T): T {
  return context.with(suppressTracing(context.active()), work);
}

let running: { shutdown(): Promise<void> } | undefined;

/** Called by startTelemetry (./sdk.ts) with the SDK it started. */
export function whenShuttingDown(sdk: { shutdown(): Promise<void> }): void {
  running = sdk;
}

/** Exports what is buffered and stops; the last step of a graceful shutdown. Nothing to do if never started. */
export async function shutdownTelemetry(): Promise<void> {
  const sdk = running;
  running = undefined;
  await sdk?.shutdown();
}
