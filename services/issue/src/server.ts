import cluster from "node:cluster";
import { hostname } from "node:os";
import { createJwtVerifier, createRemoteJwks } from "@coupon/auth";
import { serve } from "@coupon/http";
import { createKafka } from "@coupon/kafka";
import { createServiceRuntime } from "@coupon/lifecycle";
import { closeRedis, createIssuanceTermsWriter, createRedis, type Redis } from "@coupon/redis";
import { shutdownTelemetry } from "@coupon/telemetry";
import { Counter, collectDefaultMetrics, Registry } from "prom-client";
import { createCouponTermsLoader } from "./adapters/coupon-terms-loader.ts";
import { createKafkaIssuedPublisher } from "./adapters/kafka-issued-publisher.ts";
import { createOutboxRelay, outboxBacklogMetrics, relayMetrics } from "./adapters/outbox-relay.ts";
import { createRedisIssuanceStore } from "./adapters/redis-issuance-store.ts";
import { buildApp } from "./app.ts";
import { startWorkers, workerMetrics } from "./cluster.ts";
import { readConfig } from "./config.ts";
import { createIssueCoupon } from "./domain/issue-coupon.ts";

const config = readConfig();
// HTTP_WORKERS > 1: this process is the primary (src/cluster.ts): its workers serve HTTP, it relays.
const primary = config.HTTP_WORKERS > 1 && cluster.isPrimary;
const worker = config.HTTP_WORKERS > 1 && cluster.isWorker;
// The workers wait out the drain delay themselves, still answering; the primary has nothing to drain.
const { logger, shutdown } = createServiceRuntime(
  "issue",
  primary ? { ...config, SHUTDOWN_DRAIN_DELAY_MS: 0 } : config,
);

const registry = new Registry();
const kafkaOptions = { brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, logger };
let redis: Redis | undefined;

if (primary) {
  collectDefaultMetrics({ register: registry });
  await startWorkers({ count: config.HTTP_WORKERS, logger, shutdown, registry });
} else {
  // Every command on this connection is bounded, the issuance script by its own deadline first.
  redis = createRedis(config, "issue", {
    commandTimeout:
      config.ISSUE_DEADLINE_MS + config.ISSUE_REPLY_GRACE_MS + config.ISSUE_REPLICA_ACK_MS + 500,
  });
  const issueCoupon = createIssueCoupon({
    terms: createCouponTermsLoader({
      writer: createIssuanceTermsWriter(redis),
      couponServiceUrl: config.COUPON_SERVICE_URL,
      notFoundTtlMs: config.COUPON_NOT_FOUND_TTL_MS,
      requestTimeoutMs: config.COUPON_SERVICE_TIMEOUT_MS,
    }),
    store: createRedisIssuanceStore(redis, {
      deadlineMs: config.ISSUE_DEADLINE_MS,
      replyGraceMs: config.ISSUE_REPLY_GRACE_MS,
      logger,
      unannounced: new Counter({
        name: "coupon_issue_unannounced_total",
        help: "Issuances Redis accepted after their request had been answered 503",
        registers: [registry],
      }),
      replicaAckMs: config.ISSUE_REPLICA_ACK_MS,
      unconfirmed: new Counter({
        name: "coupon_issue_unconfirmed_total",
        help: "Issuances answered 503 ISSUANCE_UNCONFIRMED: no replica confirmed them within ISSUE_REPLICA_ACK_MS",
        registers: [registry],
      }),
    }),
    now: Date.now,
  });
  const ping = redis;
  const app = buildApp({
    logger,
    registry,
    isAccepting: shutdown.isAccepting,
    readinessChecks: { redis: () => ping.ping() },
    verifier: createJwtVerifier({
      keys: createRemoteJwks({ url: config.JWT_JWKS_URL }),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    }),
    issueCoupon,
    ...(worker ? { metrics: workerMetrics(registry) } : {}),
  });
  await serve(app, { config, logger, shutdown });
  if (worker) process.on("disconnect", () => void shutdown.begin("the primary process is gone"));
}

// Issuing needs only Redis: Kafka is the relay's business, so it is not a readiness condition here
// and an outage only grows the outbox. Its health is in the relay's metrics and logs.
if (config.RELAY_ENABLED && !worker) {
  const relayRedis = createRedis(config, "issue-relay", { enableAutoPipelining: false });
  const producer = createKafka(kafkaOptions).producer({
    idempotent: true,
    allowAutoTopicCreation: false,
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: config.RELAY_MAX_BACKOFF_MS },
  });
  const relay = createOutboxRelay({
    redis: relayRedis,
    publisher: createKafkaIssuedPublisher(producer, config.KAFKA_ISSUED_TOPIC),
    logger: logger.child({ component: "outbox-relay" }),
    group: config.RELAY_GROUP,
    consumer: config.RELAY_CONSUMER ?? hostname(),
    batchSize: config.RELAY_BATCH_SIZE,
    blockMs: config.RELAY_BLOCK_MS,
    lingerMs: config.RELAY_LINGER_MS,
    claimIdleMs: config.RELAY_CLAIM_IDLE_MS,
    retireAfterMs: config.RELAY_RETIRE_AFTER_MS,
    maxBackoffMs: config.RELAY_MAX_BACKOFF_MS,
    clusterPollMs: config.RELAY_CLUSTER_POLL_MS,
    metrics: relayMetrics(registry),
  });
  // Not the relay's connection, which blocks on XREADGROUP: a scrape would wait behind it.
  const metricsRedis = createRedis(config, "issue-outbox-metrics", { commandTimeout: 2_000 });
  outboxBacklogMetrics(registry, metricsRedis);
  relay.start();
  shutdown.add({ name: "outbox-relay", run: () => relay.stop() });
  shutdown.add({ name: "kafka", run: () => producer.disconnect() });
  shutdown.add({ name: "relay-redis", run: () => closeRedis(relayRedis) });
  shutdown.add({ name: "metrics-redis", run: () => closeRedis(metricsRedis) });
}
if (redis) {
  const client = redis;
  shutdown.add({ name: "redis", run: () => closeRedis(client) });
}
// Last: the spans of everything before it are exported.
shutdown.add({ name: "telemetry", run: shutdownTelemetry });
