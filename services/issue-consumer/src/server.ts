import { createPrismaClient } from "@coupon/db";
import { closeServer, listen } from "@coupon/http";
import { createKafka, createKafkaReadiness } from "@coupon/kafka";
import { createGracefulShutdown } from "@coupon/lifecycle";
import { createLogger } from "@coupon/logging";
import { Registry } from "prom-client";
import { buildApp } from "./app.ts";
import { readConfig } from "./config.ts";
import { startPipeline } from "./pipeline.ts";

const config = readConfig();
const logger = createLogger({ service: "issue-consumer", level: config.LOG_LEVEL });
const shutdown = createGracefulShutdown({
  logger,
  deadlineMs: config.SHUTDOWN_DEADLINE_MS,
  drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS,
});
shutdown.listen();

const prisma = createPrismaClient(config.DATABASE_URL, {
  poolSize: config.DATABASE_POOL_SIZE,
  acquireTimeoutMs: config.DATABASE_ACQUIRE_TIMEOUT_MS,
});
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
const server = await listen(app, config.PORT, config.HOST);
logger.info({ address: server.address() }, "listening");

let pipeline: Awaited<ReturnType<typeof startPipeline>> | undefined;
shutdown.add({ name: "http", run: () => closeServer(server) });
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
