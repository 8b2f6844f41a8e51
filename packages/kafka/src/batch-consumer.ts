import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { ProcessedBatch, RecordLogger } from "./batch-handler.ts";
import { type Backoff, backoffDelay } from "./retry-policy.ts";

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
  logger: Pick<RecordLogger, "warn">;
  /** Delays between attempts to start again after a transient crash; reset once a group is joined. */
  restartBackoff: Backoff;
  /** Called when the consumer crashed on something that is not transient: it consumes no more. */
  onCrash: (error: Error) => void;
  onBatchProcessed?: (batch: ProcessedBatch) => void;
  /** Called when kafkajs gave up for a transient reason and a new consumer is about to be started. */
  onRestart?: (error: Error) => void;
}

export interface BatchConsumer {
  /**
   * Waits for the batch in flight (the handler commits what it finished), leaves the group and
   * disconnects. Rejects with the error of a crash it did not restart from, if there was one.
   */
  stop(): Promise<void>;
}

// kafkajs gives up on a consumer that cannot find its group coordinator, which is what a rejoin
// while every broker refuses connections ends in: a broker restart longer than its retries. These
// errors are not retriable to kafkajs, but the brokers coming back cures them.
const BROKERS_UNREACHABLE = new Set([
  "KafkaJSGroupCoordinatorNotFound",
  "KafkaJSBrokerNotFound",
  "KafkaJSNoBrokerAvailableError",
]);

/** Whether the error, or one of its causes, is retriable to kafkajs or says no broker could be reached. */
function transient(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (BROKERS_UNREACHABLE.has(e.name) || (e as { retriable?: unknown }).retriable === true) return true;
  }
  return false;
}

/**
 * Joins the group and starts consuming; resolves once the consumer runs. Where kafkajs gives up on
 * something transient (the brokers away for longer than its retries), it starts a new consumer,
 * with backoff, until one runs.
 */
export async function startBatchConsumer(options: BatchConsumerOptions): Promise<BatchConsumer> {
  let stopping = false;
  let crash: Error | undefined;
  let failures = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let restarting: Promise<void> | undefined;
  let current: Consumer | undefined;

  const onCrash = (error: Error) => {
    if (stopping) return;
    if (!transient(error)) {
      crash = error;
      options.onCrash(error);
      return;
    }
    failures += 1;
    const delayMs = backoffDelay(failures, options.restartBackoff);
    options.logger.warn(
      { err: error, group: options.groupId, restart_in_ms: delayMs },
      "Kafka consumer stopped on a transient error; starting it again",
    );
    options.onRestart?.(error);
    restartTimer = setTimeout(() => {
      restarting = start()
        .then((consumer) => {
          current = consumer;
        })
        .catch(onCrash);
    }, delayMs);
  };

  const start = async (): Promise<Consumer> => {
    const consumer = createConsumer(options, {
      onCrash,
      onJoin: () => {
        failures = 0;
      },
    });
    await consumer.connect();
    try {
      // A group without committed offsets (a new deployment, a new topic) must not skip what is there.
      await consumer.subscribe({ topic: options.topic, fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: options.eachBatch });
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      throw error;
    }
    return consumer;
  };

  current = await start();
  return {
    async stop() {
      stopping = true;
      clearTimeout(restartTimer);
      await restarting;
      await current?.disconnect();
      if (crash) throw crash;
    },
  };
}

function createConsumer(
  options: BatchConsumerOptions,
  on: { onCrash: (error: Error) => void; onJoin: () => void },
): Consumer {
  const consumer = options.kafka.consumer({
    groupId: options.groupId,
    maxWaitTimeInMs: options.maxWaitTimeInMs,
    minBytes: options.minBytes,
    sessionTimeout: options.sessionTimeout,
    heartbeatInterval: options.heartbeatInterval,
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) on.onCrash(payload.error);
  });
  consumer.on(consumer.events.GROUP_JOIN, on.onJoin);
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
  return consumer;
}
