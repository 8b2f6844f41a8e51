import type { ITopicConfig } from "kafkajs";

/** Every accepted issuance, keyed by coupon id (one coupon stays ordered). Written by the outbox relay. */
export const COUPON_ISSUED_TOPIC = "coupon.issued";
/** Records whose persistence failed and wait for a delayed retry by the consumer. */
export const COUPON_ISSUED_RETRY_TOPIC = "coupon.issued.retry";
/** Records parked after the last retry; a replay command moves them back. Never re-sent automatically. */
export const COUPON_ISSUED_DLT_TOPIC = "coupon.issued.dlt";

export interface TopicDefinition {
  readonly name: string;
  readonly numPartitions: number;
  /** Topic-level configs (Kafka names), e.g. retention. */
  readonly configs?: Readonly<Record<string, string>>;
}

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * The project's topics as created locally (scripts/infra/kafka.sh). The replication factor is left to
 * the broker's default (1 on the local single node), and so is min.insync.replicas.
 */
export const TOPICS: readonly TopicDefinition[] = [
  { name: COUPON_ISSUED_TOPIC, numPartitions: 6 },
  { name: COUPON_ISSUED_RETRY_TOPIC, numPartitions: 6 },
  // Parked records must outlive a long weekend before someone replays them.
  { name: COUPON_ISSUED_DLT_TOPIC, numPartitions: 1, configs: { "retention.ms": String(4 * WEEK_MS) } },
];

/** The definitions in the shape kafkajs's admin.createTopics takes. */
export function toTopicConfigs(topics: readonly TopicDefinition[] = TOPICS): ITopicConfig[] {
  return topics.map((t) => ({
    topic: t.name,
    numPartitions: t.numPartitions,
    configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
  }));
}
