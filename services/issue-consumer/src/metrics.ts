import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Which consumer counted: the one on `coupon.issued` or the one on its retry topic. */
export type Source = "issued" | "retry";

export interface ConsumerMetrics {
  persisted: Counter<"source">;
  duplicates: Counter<"source">;
  retried: Counter<"source">;
  deadLettered: Counter<"source" | "kind">;
  databaseUnavailable: Counter<"source">;
  restarts: Counter<"source">;
  insertDuration: Histogram<"statement">;
  lag: Gauge<"topic" | "partition">;
  batchDuration: Histogram<"source">;
}

export function createConsumerMetrics(registry: Registry): ConsumerMetrics {
  const registers = [registry];
  return {
    persisted: new Counter({
      name: "issue_consumer_records_persisted_total",
      help: "Issuances written as new coupon_issues rows",
      labelNames: ["source"] as const,
      registers,
    }),
    duplicates: new Counter({
      name: "issue_consumer_records_duplicate_total",
      help: "Issuances skipped because their row already existed (redelivered records)",
      labelNames: ["source"] as const,
      registers,
    }),
    retried: new Counter({
      name: "issue_consumer_records_retried_total",
      help: "Records the database rejected, sent to the retry topic",
      labelNames: ["source"] as const,
      registers,
    }),
    deadLettered: new Counter({
      name: "issue_consumer_records_dead_lettered_total",
      help: "Records parked in the dead-letter topic, by kind (poison or rejected after the last retry)",
      labelNames: ["source", "kind"] as const,
      registers,
    }),
    databaseUnavailable: new Counter({
      name: "issue_consumer_database_unavailable_total",
      help: "Batches put back because the database was unavailable; they are tried again after a backoff",
      labelNames: ["source"] as const,
      registers,
    }),
    restarts: new Counter({
      name: "issue_consumer_restarts_total",
      help: "Times a consumer was started again after kafkajs gave up on it for a transient reason (brokers away)",
      labelNames: ["source"] as const,
      registers,
    }),
    insertDuration: new Histogram({
      name: "issue_consumer_insert_duration_seconds",
      help: "Duration of INSERT statements: one per batch, or one per row while isolating a rejected row",
      labelNames: ["statement"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    lag: new Gauge({
      name: "issue_consumer_lag_records",
      help: "Records behind the partition's high watermark after the last batch handled",
      labelNames: ["topic", "partition"] as const,
      registers,
    }),
    batchDuration: new Histogram({
      name: "issue_consumer_batch_duration_seconds",
      help: "Time to handle one fetched batch: store, route rejects, commit",
      labelNames: ["source"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}
