import { AsyncLocalStorage } from "node:async_hooks";
import { isSpanContextValid, trace } from "@opentelemetry/api";
import { pino } from "pino";

export type Logger = pino.Logger;
export type LogLevel = pino.LevelWithSilent;

/** Identifiers that belong on every log line written while handling one request or one record. */
export interface LogContext {
  request_id?: string;
  trace_id?: string;
  span_id?: string;
}

const contextStorage = new AsyncLocalStorage<LogContext>();

export function runWithLogContext<T>(context: LogContext, fn: () => T): T {
  return contextStorage.run({ ...contextStorage.getStore(), ...context }, fn);
}

export function currentLogContext(): LogContext {
  return contextStorage.getStore() ?? {};
}

/**
 * The ids of the span the line is written in, when there is one (an OpenTelemetry SDK is running):
 * the line can be found from its trace and the trace from the line. A context set explicitly (a
 * record's traceparent, in the log context or the logger's bindings) takes precedence.
 */
function activeSpanIds(logger: pino.Logger): LogContext {
  const span = trace.getActiveSpan();
  if (!span) return {};
  // A logger bound to a record's trace (logger.child({ trace_id })) keeps it: pino would write both
  // keys otherwise. Its bindings are kept as serialised text; reading that is cheaper than bindings().
  const bound = (logger as unknown as Record<symbol, string | undefined>)[pino.symbols.chindingsSym];
  if (bound?.includes('"trace_id":')) return {};
  const context = span.spanContext();
  return isSpanContextValid(context) ? { trace_id: context.traceId, span_id: context.spanId } : {};
}

export interface LoggerOptions {
  service: string;
  level: LogLevel;
  /** Where lines go; stdout unless a test captures them. */
  destination?: pino.DestinationStream;
}

export function createLogger({ service, level, destination }: LoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: (_fields, _level, instance) => ({ ...activeSpanIds(instance), ...contextStorage.getStore() }),
  };
  return destination ? pino(options, destination) : pino(options);
}
