import type { Producer, TopicMessages } from "kafkajs";
import type { Headers } from "./headers.ts";

/** A record to append to a topic. Key and value are the original bytes, never re-encoded. */
export interface OutgoingRecord {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
}

/** Appends records to Kafka; resolves once every record is acknowledged by all in-sync replicas. */
export interface RecordPublisher {
  publish(records: readonly OutgoingRecord[]): Promise<void>;
}

/** Publishes with one request for all the records of a batch, whatever their topics. */
export function createKafkaRecordPublisher(producer: Producer): RecordPublisher {
  return {
    async publish(records: readonly OutgoingRecord[]): Promise<void> {
      if (records.length === 0) return;
      const byTopic = new Map<string, TopicMessages>();
      for (const { topic, key, value, headers } of records) {
        let entry = byTopic.get(topic);
        if (!entry) {
          entry = { topic, messages: [] };
          byTopic.set(topic, entry);
        }
        entry.messages.push({ key, value, headers });
      }
      await producer.sendBatch({ topicMessages: [...byTopic.values()], acks: -1 });
    },
  };
}
