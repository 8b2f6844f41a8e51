import type { Kafka } from "kafkajs";
import { type BatchConsumer, startBatchConsumer } from "./batch-consumer.ts";
import {
  type ConsumerEvents,
  createBatchHandler,
  type IncomingRecord,
  type LogNames,
  type Parsed,
  type RecordLogger,
  type Store,
} from "./batch-handler.ts";
import { createKafkaRecordPublisher } from "./record-publisher.ts";
import type { Backoff, RetryPolicy } from "./retry-policy.ts";

export interface RetryingConsumerOptions<T> {
  kafka: Kafka;
  topics: { main: string; retry: string; deadLetter: string };
  /**
   * One group per topic. They must differ: kafkajs's round-robin assigner spreads every topic that
   * any member of a group subscribed to over all its members.
   */
  groups: { main: string; retry: string };
  parse: (record: IncomingRecord) => Parsed<T>;
  store: Store<T>;
  logger: RecordLogger;
  /** Passes through the retry topic before a rejected record is parked, and the delays between them. */
  retryPolicy?: RetryPolicy;
  unavailableBackoff?: Backoff;
  /** Most records per store call, and per commit. */
  batchSize?: number;
  /** Longest a fetch waits for records; also bounds how long stopping takes. */
  maxWaitTimeInMs?: number;
  /** A fetch answers once this many bytes are there, or after maxWaitTimeInMs. */
  minBytes?: number;
  /**
   * A dead consumer's partitions move on after this long without heartbeats. It can be short:
   * a live consumer heartbeats even while a chunk is being stored.
   */
  sessionTimeout?: number;
  /** What `source` is in log lines and events for the consumer of each topic. */
  sources?: { main: string; retry: string };
  names?: LogNames;
  storedLogFields?: (value: T) => Record<string, unknown>;
  events?: ConsumerEvents;
  /** Delays between attempts to start a consumer again after kafkajs gave up on a transient error. */
  restartBackoff?: Backoff;
  /** A consumer stopped for good on something that is not transient; the process should stop too. */
  onCrash: (error: Error) => void;
}

export interface RetryingConsumer {
  /** Stops both consumers (each finishes and commits its batch in flight), then the producer. */
  stop(): Promise<void>;
}

/**
 * A consumer of `topics.main` that stores what `parse` accepts with `store`, parks poison in the
 * dead-letter topic at once, and sends what the store rejects through the retry topic (read by a
 * second consumer in its own group, honouring each record's not-before time) until the retry
 * policy parks it too. Offsets are committed only after the store and the publish.
 */
export async function startRetryingConsumer<T>(
  options: RetryingConsumerOptions<T>,
): Promise<RetryingConsumer> {
  const { kafka, topics, groups } = options;
  const sources = options.sources ?? { main: "main", retry: "retry" };
  const sessionTimeout = options.sessionTimeout ?? 10_000;
  // Kafka's rule of thumb is a third of the session timeout at most; a tenth leaves room for a
  // heartbeat or two to be lost.
  const heartbeatInterval = Math.floor(sessionTimeout / 10);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const publisher = createKafkaRecordPublisher(producer);

  const consumers: BatchConsumer[] = [];
  const start = async (source: string, topic: string, groupId: string, readsRetryTopic: boolean) => {
    const eachBatch = createBatchHandler({
      source,
      readsRetryTopic,
      retryTopic: topics.retry,
      deadLetterTopic: topics.deadLetter,
      parse: options.parse,
      store: options.store,
      publisher,
      retryPolicy: options.retryPolicy ?? { maxAttempts: 3, backoff: { initialMs: 1_000, maxMs: 60_000 } },
      unavailableBackoff: options.unavailableBackoff ?? { initialMs: 250, maxMs: 10_000 },
      batchSize: options.batchSize ?? 500,
      heartbeatIntervalMs: heartbeatInterval,
      logger: options.logger,
      names: options.names ?? { store: "store", value: "record" },
      storedLogFields: options.storedLogFields,
      events: options.events,
    });
    consumers.push(
      await startBatchConsumer({
        kafka,
        groupId,
        topic,
        eachBatch,
        maxWaitTimeInMs: options.maxWaitTimeInMs ?? 500,
        minBytes: options.minBytes ?? 1,
        sessionTimeout,
        heartbeatInterval,
        logger: options.logger,
        restartBackoff: options.restartBackoff ?? { initialMs: 1_000, maxMs: 30_000 },
        onCrash: options.onCrash,
        ...(options.events?.batchProcessed
          ? { onBatchProcessed: (batch) => options.events?.batchProcessed?.(source, batch) }
          : {}),
        onRestart: () => options.events?.restarted?.(source),
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
    await start(sources.main, topics.main, groups.main, false);
    await start(sources.retry, topics.retry, groups.retry, true);
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  return { stop };
}
