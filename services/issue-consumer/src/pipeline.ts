import type { CouponIssued } from "@coupon/contracts";
import type { PrismaClient } from "@coupon/db";
import { type RetryingConsumer, type StoreResult, startRetryingConsumer } from "@coupon/kafka";
import type { Logger } from "@coupon/logging";
import type { Kafka } from "kafkajs";
import type { Registry } from "prom-client";
import { createPrismaCouponIssueRepository } from "./adapters/prisma-coupon-issue-repository.ts";
import type { Config } from "./config.ts";
import { type CouponIssueRepository, DatabaseUnavailableError, persistIssuances } from "./domain/persist.ts";
import { classifyRecord } from "./domain/record.ts";
import { type ConsumerMetrics, createConsumerMetrics, type Source } from "./metrics.ts";

export interface PipelineDeps {
  config: Config;
  logger: Logger;
  kafka: Kafka;
  prisma: PrismaClient;
  registry: Registry;
  /** A consumer stopped for good (on something that is not transient); the process should stop too. */
  onCrash: (error: Error) => void;
}

export type Pipeline = RetryingConsumer;

const SOURCES: { main: Source; retry: Source } = { main: "issued", retry: "retry" };

/**
 * The two consumers of the service: one on `coupon.issued`, one on its retry topic, sharing a
 * producer for the retry and dead-letter topics and a repository over coupon_issues.
 */
export async function startPipeline(deps: PipelineDeps): Promise<Pipeline> {
  const { config, logger, kafka, prisma, registry } = deps;
  const metrics = createConsumerMetrics(registry);
  const repository = createPrismaCouponIssueRepository(prisma, {
    onInsert: (rows, seconds) =>
      metrics.insertDuration.observe({ statement: rows > 1 ? "batch" : "single" }, seconds),
  });
  const pipeline = await startRetryingConsumer({
    kafka,
    topics: {
      main: config.KAFKA_ISSUED_TOPIC,
      retry: config.KAFKA_RETRY_TOPIC,
      deadLetter: config.KAFKA_DLT_TOPIC,
    },
    groups: { main: config.KAFKA_CONSUMER_GROUP, retry: config.KAFKA_RETRY_CONSUMER_GROUP },
    parse: (record) => {
      const classification = classifyRecord(record);
      return classification.ok ? { ok: true, value: classification.issuance } : classification;
    },
    store: storeIssuances(repository, metrics),
    logger,
    retryPolicy: {
      maxAttempts: config.RETRY_MAX_ATTEMPTS,
      backoff: { initialMs: config.RETRY_BACKOFF_MS, maxMs: config.RETRY_BACKOFF_MAX_MS },
    },
    unavailableBackoff: { initialMs: config.DATABASE_BACKOFF_MS, maxMs: config.DATABASE_BACKOFF_MAX_MS },
    batchSize: config.CONSUMER_BATCH_SIZE,
    maxWaitTimeInMs: config.KAFKA_MAX_WAIT_MS,
    minBytes: config.KAFKA_MIN_BYTES,
    sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
    sources: SOURCES,
    names: { store: "database", value: "issuance" },
    storedLogFields: ({ issueId, couponId, userId }) => ({
      issue_id: issueId,
      coupon_id: couponId,
      user_id: userId,
    }),
    events: {
      retried: (source) => metrics.retried.inc({ source }),
      deadLettered: (source, kind) => metrics.deadLettered.inc({ source, kind }),
      storeUnavailable: (source) => metrics.databaseUnavailable.inc({ source }),
      restarted: (source) => metrics.restarts.inc({ source }),
      batchProcessed: (source, batch) => {
        metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, batch.lag);
        metrics.batchDuration.observe({ source }, batch.durationMs / 1000);
      },
    },
    onCrash: deps.onCrash,
  });
  logger.info(
    {
      topics: [config.KAFKA_ISSUED_TOPIC, config.KAFKA_RETRY_TOPIC],
      groups: [config.KAFKA_CONSUMER_GROUP, config.KAFKA_RETRY_CONSUMER_GROUP],
    },
    "consuming",
  );
  return pipeline;
}

/** One multi-row insert per chunk (row by row to single out what the database refuses), counted. */
function storeIssuances(repository: CouponIssueRepository, metrics: ConsumerMetrics) {
  return async (issuances: readonly CouponIssued[], source: string): Promise<StoreResult> => {
    try {
      const result = await persistIssuances(
        repository,
        issuances.map((issuance, index) => ({ issuance, index })),
        (i) => i.issuance,
      );
      metrics.persisted.inc({ source }, result.inserted);
      metrics.duplicates.inc({ source }, result.duplicates);
      return {
        available: true,
        rejected: result.rejected.map(({ item, error }) => ({ index: item.index, error })),
      };
    } catch (error) {
      if (error instanceof DatabaseUnavailableError) return { available: false, error: error.message };
      throw error;
    }
  };
}
