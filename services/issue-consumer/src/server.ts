import { createPrismaClientFromEnv } from "@coupon/db";
import { serve } from "@coupon/http";
import { createKafka, createKafkaReadiness } from "@coupon/kafka";
import { createServiceRuntime } from "@coupon/lifecycle";
import { shutdownTelemetry } from "@coupon/telemetry";
import { Registry } from "prom-client";
import { buildApp } from "./app.ts";
import { readConfig } from "./config.ts";
import { startPipeline } from "./pipeline.ts";

const config = readConfig();
const { logger, shutdown } = createServiceRuntime("issue-consumer", config);

const prisma = createPrismaClientFromEnv(config);
const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, logger });
const kafkaReadiness = createKafkaReadiness({
  brokers: config.KAFKA_BROKERS,
  clientId: `${config.KAFKA_CLIENT_ID}-readiness`,
  logger,
});
const registry = new Registry();

// The HTTP server only serves probes and metrics: this service's work arrives from Kafka.
const app = buildApp({
  logger,
  registry,
  isAccepting: shutdown.isAccepting,
  readinessChecks: {
    kafka: kafkaReadiness.check,
    database: () => prisma.$queryRaw`SELECT 1`,
  },
});
await serve(app, { config, logger, shutdown });

let pipeline: Awaited<ReturnType<typeof startPipeline>> | undefined;
shutdown.add({
  name: "kafka",
  run: async () => {
    try {
      await pipeline?.stop();
    } finally {
      await kafkaReadiness.close();
    }
  },
});
shutdown.add({ name: "database", run: () => prisma.$disconnect() });
// Last: the spans of everything before it are exported.
shutdown.add({ name: "telemetry", run: shutdownTelemetry });

try {
  pipeline = await startPipeline({
    config,
    logger,
    kafka,
    prisma,
    registry,
    onCrash: (error) => {
      logger.fatal({ err: error }, "a Kafka consumer crashed and will not restart");
      void shutdown.begin("consumer crashed");
    },
  });
} catch (error) {
  // Without its consumers the service has no purpose: exit, and let the orchestrator restart it.
  logger.fatal({ err: error }, "the Kafka consumers did not start");
  process.exit(1);
}
