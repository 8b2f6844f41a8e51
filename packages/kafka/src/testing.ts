// Helpers for tests against a real broker: watch what is appended to a topic, keep what is logged.
import { randomUUID } from "node:crypto";
import type { Admin, Consumer, Kafka } from "kafkajs";
import type { RecordLogger } from "./batch-handler.ts";
import { type Headers, headersOf } from "./headers.ts";

export interface ObservedRecord {
  partition: number;
  offset: string;
  /** Epoch milliseconds at which the record was produced. */
  timestamp: number;
  key: string | undefined;
  value: string | undefined;
  headers: Headers;
}

export interface TopicObserver {
  records: ObservedRecord[];
  stop(): Promise<void>;
}

/** Collects every record appended to a topic, from its beginning, until stopped. */
export async function observeTopic(kafka: Kafka, topic: string): Promise<TopicObserver> {
  const groupId = `observer-${randomUUID()}`;
  const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const records: ObservedRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      records.push({
        partition,
        offset: message.offset,
        timestamp: Number(message.timestamp),
        key: message.key?.toString(),
        value: message.value?.toString(),
        headers: headersOf(message.headers),
      });
    },
  });
  return {
    records,
    async stop() {
      await consumer.disconnect();
    },
  };
}

/** How many records a topic holds (sum over its partitions). */
export async function topicSize(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

/** Log lines as objects, the request and trace ids of a child logger's bindings included. */
export function memoryLogger(
  lines: Record<string, unknown>[],
  bindings: Record<string, unknown> = {},
): RecordLogger {
  const write = (level: string) => (fields: Record<string, unknown>, msg: string) =>
    void lines.push({ level, ...bindings, ...fields, msg });
  return {
    debug: write("debug"),
    warn: write("warn"),
    error: write("error"),
    isLevelEnabled: () => true,
    child: (more) => memoryLogger(lines, { ...bindings, ...more }),
  };
}
