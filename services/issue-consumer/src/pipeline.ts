import type { PrismaClient } from "@coupon/db";
import type { Logger } from "@coupon/logging";
import type { Kafka } from "kafkajs";
import type { Registry } from "prom-client";
import { type BatchConsumer, startBatchConsumer } from "./adapters/kafka-consumer.ts";
import { createKafkaRecordPublisher } from "./adapters/kafka-record-publisher.ts";
import { createPrismaCouponIssueRepository } from "./adapters/prisma-coupon-issue-repository.ts";
import type { Config } from "./config.ts";
import { createBatchHandler } from "./consumer.ts";
import { createConsumerMetrics, type Source } from "./metrics.ts";

export interface PipelineDeps {
  config: Config;
  logger: Logger;
  kafka: Kafka;
  prisma: PrismaClient;
  registry: Registry;
  /** A consumer stopped for good (kafkajs gave up restarting it); the process should stop too. */
  onCrash: (error: Error) => void;
}

export interface Pipeline {
  /** Stops both consumers (each finishes and commits its batch in flight), then the producer. */
  stop(): Promise<void>;
}

/**
 * The two consumers of the service: one on `coupon.issued`, one on its retry topic, sharing a
 * producer for the retry and dead-letter topics and a repository over coupon_issues.
 */
export async function startPipeline(deps: PipelineDeps): Promise<Pipeline> {
  const { config, logger, kafka, prisma, registry } = deps;
  const metrics = createConsumerMetrics(registry);
  // Kafka's rule of thumb is a third of the session timeout at most; a tenth leaves room for a
  // heartbeat or two to be lost.
  const heartbeatInterval = Math.floor(config.KAFKA_SESSION_TIMEOUT_MS / 10);
  const store = createPrismaCouponIssueRepository(prisma, {
    onInsert: (rows, seconds) =>
      metrics.insertDuration.observe({ statement: rows > 1 ? "batch" : "single" }, seconds),
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const publisher = createKafkaRecordPublisher(producer);

  const consumers: BatchConsumer[] = [];
  const start = async (source: Source, topic: string, groupId: string) => {
    const eachBatch = createBatchHandler({
      source,
      retryTopic: config.KAFKA_RETRY_TOPIC,
      deadLetterTopic: config.KAFKA_DLT_TOPIC,
      store,
      publisher,
      retryPolicy: {
        maxAttempts: config.RETRY_MAX_ATTEMPTS,
        backoff: { initialMs: config.RETRY_BACKOFF_MS, maxMs: config.RETRY_BACKOFF_MAX_MS },
      },
      databaseBackoff: { initialMs: config.DATABASE_BACKOFF_MS, maxMs: config.DATABASE_BACKOFF_MAX_MS },
      batchSize: config.CONSUMER_BATCH_SIZE,
      heartbeatIntervalMs: heartbeatInterval,
      metrics,
      logger,
    });
    consumers.push(
      await startBatchConsumer({
        kafka,
        groupId,
        topic,
        eachBatch,
        maxWaitTimeInMs: config.KAFKA_MAX_WAIT_MS,
        minBytes: config.KAFKA_MIN_BYTES,
        sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
        heartbeatInterval,
        onCrash: deps.onCrash,
      }),
    );
  };
  const stop = async () => {
    const results = await Promise.allSettled(consumers.map((c) => c.stop()));
    await producer.disconnect();
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  };

  try {
    await start("issued", config.KAFKA_ISSUED_TOPIC, config.KAFKA_CONSUMER_GROUP);
    await start("retry", config.KAFKA_RETRY_TOPIC, config.KAFKA_RETRY_CONSUMER_GROUP);
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  logger.info(
    {
      topics: [config.KAFKA_ISSUED_TOPIC, config.KAFKA_RETRY_TOPIC],
      groups: [config.KAFKA_CONSUMER_GROUP, config.KAFKA_RETRY_CONSUMER_GROUP],
    },
    "consuming",
  );
  return { stop };
}
