import type { EachBatchPayload, Kafka } from "kafkajs";
import type { ProcessedBatch } from "./batch-handler.ts";

export interface BatchConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  /** Commits are the handler's job: it resolves and commits offsets only once its records are safe. */
  eachBatch: (payload: EachBatchPayload) => Promise<void>;
  maxWaitTimeInMs: number;
  /** A fetch answers once this many bytes are there, or after maxWaitTimeInMs. */
  minBytes: number;
  sessionTimeout: number;
  heartbeatInterval: number;
  /** Called when the consumer crashed and kafkajs gave up on it: it consumes no more. */
  onCrash: (error: Error) => void;
  onBatchProcessed?: (batch: ProcessedBatch) => void;
}

export interface BatchConsumer {
  /**
   * Waits for the batch in flight (the handler commits what it finished), leaves the group and
   * disconnects. Rejects with the error of a crash kafkajs did not restart from, if there was one.
   */
  stop(): Promise<void>;
}

/** Joins the group and starts consuming; resolves once the consumer runs. */
export async function startBatchConsumer(options: BatchConsumerOptions): Promise<BatchConsumer> {
  const consumer = options.kafka.consumer({
    groupId: options.groupId,
    maxWaitTimeInMs: options.maxWaitTimeInMs,
    minBytes: options.minBytes,
    sessionTimeout: options.sessionTimeout,
    heartbeatInterval: options.heartbeatInterval,
  });
  let crash: Error | undefined;
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) return;
    crash = payload.error;
    options.onCrash(payload.error);
  });
  const { onBatchProcessed } = options;
  if (onBatchProcessed) {
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
      onBatchProcessed({
        topic: payload.topic,
        partition: payload.partition,
        lag: Number(payload.offsetLag),
        size: payload.batchSize,
        durationMs: payload.duration,
      }),
    );
  }
  await consumer.connect();
  try {
    // A group without committed offsets (a new deployment, a new topic) must not skip what is there.
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: options.eachBatch });
  } catch (error) {
    await consumer.disconnect().catch(() => {});
    throw error;
  }
  return {
    async stop() {
      await consumer.disconnect();
      if (crash) throw crash;
    },
  };
}
