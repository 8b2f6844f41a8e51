import { createPrismaClient } from "@coupon/db";
import { closeServer, listen } from "@coupon/http";
import { createKafkaReadiness } from "@coupon/kafka";
import { createGracefulShutdown } from "@coupon/lifecycle";
import { createLogger } from "@coupon/logging";
import { Registry } from "prom-client";
import { buildApp } from "./app.ts";
import { readConfig } from "./config.ts";

const config = readConfig();
const logger = createLogger({ service: "issue-consumer", level: config.LOG_LEVEL });
const shutdown = createGracefulShutdown({
  logger,
  deadlineMs: config.SHUTDOWN_DEADLINE_MS,
  drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS,
});
shutdown.listen();

const prisma = createPrismaClient(config.DATABASE_URL, { poolSize: config.DATABASE_POOL_SIZE });
const kafkaReadiness = createKafkaReadiness({
  brokers: config.KAFKA_BROKERS,
  clientId: `${config.KAFKA_CLIENT_ID}-readiness`,
  logger,
});

// The HTTP server only serves probes and metrics: this service's work arrives from Kafka.
const app = buildApp({
  logger,
  registry: new Registry(),
  isAccepting: shutdown.isAccepting,
  readinessChecks: {
    kafka: kafkaReadiness.check,
    database: () => prisma.$queryRaw`SELECT 1`,
  },
});
const server = await listen(app, config.PORT, config.HOST);
shutdown.add({ name: "http", run: () => closeServer(server) });
shutdown.add({ name: "kafka", run: kafkaReadiness.close });
shutdown.add({ name: "database", run: () => prisma.$disconnect() });
logger.info({ address: server.address() }, "listening");
