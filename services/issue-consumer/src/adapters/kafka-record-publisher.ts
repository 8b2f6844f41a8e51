import type { Producer, TopicMessages } from "kafkajs";
import type { OutgoingRecord, RecordPublisher } from "../domain/publisher.ts";

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
