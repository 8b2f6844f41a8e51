import { closeServer, listen } from "@coupon/http";
import { createKafkaReadiness } from "@coupon/kafka";
import { createGracefulShutdown } from "@coupon/lifecycle";
import { createLogger } from "@coupon/logging";
import { closeRedis, createRedis } from "@coupon/redis";
import { Registry } from "prom-client";
import { buildApp } from "./app.ts";
import { readConfig } from "./config.ts";

const config = readConfig();
const logger = createLogger({ service: "issue", level: config.LOG_LEVEL });
const shutdown = createGracefulShutdown({
  logger,
  deadlineMs: config.SHUTDOWN_DEADLINE_MS,
  drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS,
});
shutdown.listen();

const redis = createRedis(config, "issue");
const kafkaReadiness = createKafkaReadiness({
  brokers: config.KAFKA_BROKERS,
  clientId: `${config.KAFKA_CLIENT_ID}-readiness`,
  logger,
});

const app = buildApp({
  logger,
  registry: new Registry(),
  isAccepting: shutdown.isAccepting,
  readinessChecks: {
    redis: () => redis.ping(),
    kafka: kafkaReadiness.check,
  },
});
const server = await listen(app, config.PORT, config.HOST);
shutdown.add({ name: "http", run: () => closeServer(server) });
shutdown.add({ name: "kafka", run: kafkaReadiness.close });
shutdown.add({ name: "redis", run: () => closeRedis(redis) });
logger.info({ address: server.address() }, "listening");
