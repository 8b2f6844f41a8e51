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
