import { Kafka, type KafkaConfig, type LogEntry, logLevel } from "kafkajs";

type LogFn = (fields: Record<string, unknown>, message: string) => void;

/** The subset of a pino logger that kafkajs's logs are routed to: `logger.warn({ ...fields }, "message")`. */
export interface KafkaLogger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
}

export type KafkaLogLevel = "error" | "warn" | "info" | "debug";

export interface CreateKafkaOptions
  extends Omit<KafkaConfig, "brokers" | "clientId" | "logLevel" | "logCreator"> {
  brokers: string[];
  clientId: string;
  /** Where kafkajs logs go. Without one, warnings and errors are written to stderr as JSON lines. */
  logger?: KafkaLogger;
  /** Lowest level passed on; "info" with a logger, "warn" without. */
  logLevel?: KafkaLogLevel;
}

const LEVELS: Record<KafkaLogLevel, logLevel> = {
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

function levelName(level: logLevel): KafkaLogLevel {
  if (level <= logLevel.ERROR) return "error";
  if (level === logLevel.WARN) return "warn";
  if (level === logLevel.INFO) return "info";
  return "debug";
}

// kafkajs 2 warns on every producer that its default partitioner changed in 2.0.0; we never used 1.x.
const isPartitionerNotice = (message: string): boolean =>
  message.startsWith("KafkaJS v2.0.0 switched default partitioner");

const stderrLogger: KafkaLogger = {
  error: (fields, message) => console.error(JSON.stringify({ level: "error", message, ...fields })),
  warn: (fields, message) => console.error(JSON.stringify({ level: "warn", message, ...fields })),
  info: (fields, message) => console.error(JSON.stringify({ level: "info", message, ...fields })),
  debug: (fields, message) => console.error(JSON.stringify({ level: "debug", message, ...fields })),
};

/** A kafkajs client whose logs go to `logger` (pino-style) instead of kafkajs's console logger. */
export function createKafka(options: CreateKafkaOptions): Kafka {
  const { logger, logLevel: level, ...config } = options;
  const target = logger ?? stderrLogger;
  return new Kafka({
    ...config,
    logLevel: LEVELS[level ?? (logger ? "info" : "warn")],
    logCreator:
      () =>
      ({ namespace, level: entryLevel, log }: LogEntry) => {
        const { message, timestamp: _timestamp, ...extra } = log;
        if (isPartitionerNotice(message)) return;
        target[levelName(entryLevel)]({ component: "kafkajs", namespace, ...extra }, message);
      },
  });
}

/** "host:port,host:port" (as in KAFKA_BROKERS) → ["host:port", "host:port"]. */
export function parseBrokers(value: string): string[] {
  return value
    .split(",")
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}
