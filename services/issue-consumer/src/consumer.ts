// The entry point of the records, as a route is for requests: parse and validate each record, let
// the domain store them, send what could not be stored to the retry or dead-letter topic, and only
// then commit the offsets.
import { whileHeartbeating } from "@coupon/kafka";
import { type Logger, runWithLogContext } from "@coupon/logging";
import type { EachBatchPayload, KafkaMessage } from "kafkajs";
import { headersOf } from "./adapters/kafka-headers.ts";
import {
  type DeadLetterKind,
  deadLetterHeaders,
  type Headers,
  logContextOf,
  type RecordPosition,
  readRetryState,
  retryHeaders,
} from "./domain/headers.ts";
import {
  DatabaseUnavailableError,
  type IssuanceStore,
  type PersistResult,
  persistIssuances,
} from "./domain/persist.ts";
import type { RecordPublisher } from "./domain/publisher.ts";
import { type Classification, classifyRecord } from "./domain/record.ts";
import { type Backoff, backoffDelay, nextStep, type RetryPolicy } from "./domain/retry-policy.ts";
import type { ConsumerMetrics, Source } from "./metrics.ts";

export interface BatchHandlerDeps {
  /** "issued" reads `coupon.issued`; "retry" reads the retry topic and honours its retry headers. */
  source: Source;
  retryTopic: string;
  deadLetterTopic: string;
  store: IssuanceStore;
  publisher: RecordPublisher;
  retryPolicy: RetryPolicy;
  /** How long to leave the database alone after it was found unavailable, by consecutive failures. */
  databaseBackoff: Backoff;
  /** Most records per INSERT; larger fetched batches are handled and committed in chunks. */
  batchSize: number;
  /** How often to heartbeat while a chunk is being stored, so that a slow one keeps the membership. */
  heartbeatIntervalMs: number;
  metrics: ConsumerMetrics;
  logger: Logger;
  now?: () => number;
}

interface ReadRecord {
  message: KafkaMessage;
  position: RecordPosition;
  headers: Headers;
  classification: Classification;
  /** Retries the record has been through, the current one included (0 on `coupon.issued`). */
  retries: number;
  /** Epoch milliseconds before which it must not be tried (0 on `coupon.issued`). */
  notBefore: number;
}

/** Builds the kafkajs `eachBatch` handler of one consumer (run it with autoCommit off). */
export function createBatchHandler(deps: BatchHandlerDeps): (payload: EachBatchPayload) => Promise<void> {
  const { source, metrics, logger } = deps;
  const now = deps.now ?? Date.now;
  let databaseFailures = 0;
  let databaseBlockedUntil = 0;

  // Pausing the partition, rather than sleeping here, keeps the consumer heartbeating, lets the
  // other partitions go on, and lets a shutdown stop the consumer without waiting for the delay.
  // Unpaused, kafkajs fetches again from the first offset that was not resolved.
  const pauseFor = (pause: EachBatchPayload["pause"], ms: number): void => {
    const resume = pause();
    setTimeout(resume, ms).unref();
  };

  /** Stores, re-routes and reports one chunk; false when the database was unavailable and nothing may advance. */
  async function handleChunk(records: ReadRecord[]): Promise<boolean> {
    const valid = records.flatMap((record) =>
      record.classification.ok ? [{ record, issuance: record.classification.issuance }] : [],
    );
    let result: PersistResult<(typeof valid)[number]>;
    try {
      result = await persistIssuances(deps.store, valid, (v) => v.issuance);
    } catch (error) {
      if (!(error instanceof DatabaseUnavailableError)) throw error;
      databaseFailures += 1;
      const delay = backoffDelay(databaseFailures, deps.databaseBackoff);
      databaseBlockedUntil = now() + delay;
      metrics.databaseUnavailable.inc({ source });
      logger.warn(
        {
          source,
          records: records.length,
          failures: databaseFailures,
          retry_in_ms: delay,
          error: error.message,
        },
        "database unavailable, the batch will be tried again",
      );
      return false;
    }
    databaseFailures = 0;
    metrics.persisted.inc({ source }, result.inserted);
    metrics.duplicates.inc({ source }, result.duplicates);

    const parked: { record: ReadRecord; kind: DeadLetterKind; error: string }[] = [];
    const retried: { record: ReadRecord; step: { attempt: number; notBefore: number }; error: string }[] = [];
    for (const record of records) {
      if (!record.classification.ok)
        parked.push({ record, kind: "poison", error: record.classification.reason });
    }
    for (const { item, error } of result.rejected) {
      const step = nextStep(item.record.retries, deps.retryPolicy, now());
      if (step.action === "dead-letter") parked.push({ record: item.record, kind: "rejected", error });
      else retried.push({ record: item.record, step, error });
    }
    await deps.publisher.publish([
      ...retried.map(({ record, step, error }) => ({
        topic: deps.retryTopic,
        key: record.message.key,
        value: record.message.value,
        headers: retryHeaders(record.headers, { position: record.position, ...step, error }),
      })),
      ...parked.map(({ record, kind, error }) => ({
        topic: deps.deadLetterTopic,
        key: record.message.key,
        value: record.message.value,
        headers: deadLetterHeaders(record.headers, {
          position: record.position,
          kind,
          error,
          attempts: record.retries,
          at: new Date(now()),
        }),
      })),
    ]);

    for (const { record, step, error } of retried) {
      metrics.retried.inc({ source });
      logAbout(
        record,
        "warn",
        { error, retry_attempt: step.attempt, not_before: new Date(step.notBefore).toISOString() },
        "the database rejected the record, it will be retried",
      );
    }
    for (const { record, kind, error } of parked) {
      metrics.deadLettered.inc({ source, kind });
      logAbout(
        record,
        "error",
        { error, kind, retries: record.retries },
        "record parked in the dead-letter topic",
      );
    }
    if (logger.isLevelEnabled("debug")) {
      const rejected = new Set(result.rejected.map((r) => r.item));
      for (const item of valid) {
        if (rejected.has(item)) continue;
        const { issueId, couponId, userId } = item.issuance;
        logAbout(
          item.record,
          "debug",
          { issue_id: issueId, coupon_id: couponId, user_id: userId },
          "issuance stored",
        );
      }
    }
    return true;
  }

  function logAbout(
    record: ReadRecord,
    level: "debug" | "warn" | "error",
    fields: Record<string, unknown>,
    message: string,
  ): void {
    const { topic, partition, offset } = record.position;
    runWithLogContext(logContextOf(record.headers), () => {
      logger[level]({ source, topic, partition, offset, ...fields }, message);
    });
  }

  function read(topic: string, partition: number, message: KafkaMessage): ReadRecord {
    const headers = headersOf(message.headers);
    const retry = source === "retry" ? readRetryState(headers) : { attempt: 0, notBefore: 0 };
    return {
      message,
      position: { topic, partition, offset: message.offset, timestamp: message.timestamp },
      headers,
      classification: classifyRecord({ key: message.key?.toString(), value: message.value?.toString() }),
      retries: retry.attempt,
      notBefore: retry.notBefore,
    };
  }

  /** The leading records that are due, and how long until the first one that is not. */
  function due(records: ReadRecord[]): { ready: ReadRecord[]; waitMs: number } {
    const at = now();
    const first = records.findIndex((r) => r.notBefore > at);
    if (first < 0) return { ready: records, waitMs: 0 };
    return { ready: records.slice(0, first), waitMs: (records[first] as ReadRecord).notBefore - at };
  }

  return async (payload) => {
    const {
      batch,
      resolveOffset,
      commitOffsetsIfNecessary,
      uncommittedOffsets,
      heartbeat,
      isRunning,
      isStale,
    } = payload;
    let pending = batch.messages;
    // A stop between chunks leaves the rest uncommitted: the next owner of the partition reads it.
    while (pending.length > 0 && isRunning() && !isStale()) {
      const blockedFor = databaseBlockedUntil - now();
      if (blockedFor > 0) return pauseFor(payload.pause, blockedFor);
      const chunk = pending.slice(0, deps.batchSize).map((m) => read(batch.topic, batch.partition, m));
      const { ready, waitMs } = due(chunk);
      if (ready.length > 0) {
        const stored = await whileHeartbeating(heartbeat, deps.heartbeatIntervalMs, () => handleChunk(ready));
        if (!stored) return pauseFor(payload.pause, databaseBlockedUntil - now());
        resolveOffset((ready.at(-1) as ReadRecord).message.offset);
        await commitOffsetsIfNecessary(uncommittedOffsets());
        await heartbeat();
      }
      if (waitMs > 0) return pauseFor(payload.pause, waitMs);
      pending = pending.slice(ready.length);
    }
  };
}
