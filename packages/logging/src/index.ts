import { AsyncLocalStorage } from "node:async_hooks";
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
    mixin: () => ({ ...contextStorage.getStore() }),
  };
  return destination ? pino(options, destination) : pino(options);
}
