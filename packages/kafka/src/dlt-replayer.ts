import type { EachBatchPayload, Kafka, KafkaMessage, Producer } from "kafkajs";
import { type Headers, headersOf, type RecordPosition, replayHeaders } from "./headers.ts";

export interface ReplayOptions {
  kafka: Kafka;
  deadLetterTopic: string;
  targetTopic: string;
  /** The replay's own consumer group: what it committed is never replayed again. */
  groupId: string;
  /** Most records to move; all that are waiting when undefined. */
  limit?: number;
  /** Read and report, but neither produce nor commit. */
  dryRun: boolean;
  timeoutMs: number;
  maxWaitTimeInMs: number;
  /** Called for every record moved (or, in a dry run, that would be moved), in order per partition. */
  onRecord: (record: ReplayedRecord) => void;
}

export interface ReplayedRecord {
  from: RecordPosition;
  key: string | undefined;
  value: string | undefined;
  /** The dead letter's headers, with the reason it was parked. */
  headers: Headers;
}

export interface ReplayResult {
  moved: number;
  /** Dead letters still waiting for this group after the run (left by --limit). */
  remaining: number;
}

/**
 * Moves the dead letters that are waiting for the replay group when the replay starts back to the
 * target topic, key, value and the producer's headers unchanged, then stops. Records parked while it
 * runs are left for the next run, so a record that fails again at once cannot make it loop. Each
 * batch is produced (acks=all) before its offsets are committed: a crash in between replays those
 * records twice, which the consumer's idempotent insert absorbs.
 */
export async function replayDeadLetters(options: ReplayOptions): Promise<ReplayResult> {
  const { kafka, deadLetterTopic: topic } = options;
  const { ranges, waiting } = await waitingRecords(kafka, topic, options.groupId);
  const wanted = Math.min(waiting, options.limit ?? Number.POSITIVE_INFINITY);
  if (wanted === 0) return { moved: 0, remaining: waiting };

  let producer: Producer | undefined;
  if (!options.dryRun) {
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  }
  const consumer = kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: options.maxWaitTimeInMs });
  const positions = new Map([...ranges].map(([partition, { start }]) => [partition, start]));
  const endOf = (partition: number) => ranges.get(partition)?.end ?? 0n;
  const caughtUp = () => [...positions].every(([partition, position]) => position >= endOf(partition));
  let moved = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`the replay did not finish within ${options.timeoutMs / 1000} s (moved ${moved})`),
          ),
        options.timeoutMs,
      );
      const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
        const { partition } = payload.batch;
        const take: KafkaMessage[] = [];
        for (const message of payload.batch.messages) {
          if (BigInt(message.offset) >= endOf(partition) || moved + take.length >= wanted) break;
          take.push(message);
        }
        const last = take.at(-1);
        if (last) {
          const records = take.map((message) => ({ message, record: replayed(topic, partition, message) }));
          await producer?.send({
            topic: options.targetTopic,
            acks: -1,
            messages: records.map(({ message, record }) => ({
              key: message.key,
              value: message.value,
              headers: replayHeaders(record.headers, record.from),
            })),
          });
          payload.resolveOffset(last.offset);
          if (!options.dryRun) await payload.commitOffsetsIfNecessary(payload.uncommittedOffsets());
          moved += records.length;
          for (const { record } of records) options.onRecord(record);
          positions.set(partition, BigInt(last.offset) + 1n);
        }
        if (moved >= wanted || caughtUp()) resolve();
        // Nothing more to take here; new dead letters beyond the end are for the next run.
        else if ((positions.get(partition) ?? 0n) >= endOf(partition)) payload.pause();
      };
      consumer
        .connect()
        .then(() => consumer.subscribe({ topic, fromBeginning: true }))
        .then(() => consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch }))
        .catch(reject);
    });
    return { moved, remaining: waiting - moved };
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
    await producer?.disconnect();
  }
}

/** Per partition, where the group stands and the end offset at the start; and how many records lie between. */
async function waitingRecords(
  kafka: Kafka,
  topic: string,
  groupId: string,
): Promise<{ ranges: Map<number, { start: bigint; end: bigint }>; waiting: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ranges = new Map<number, { start: bigint; end: bigint }>();
    let waiting = 0n;
    for (const { partition, low, high } of offsets) {
      const done = BigInt(committed?.partitions.find((p) => p.partition === partition)?.offset ?? "-1");
      // No commit yet (-1), or a commit older than what retention kept: start at the oldest record.
      const start = done > BigInt(low) ? done : BigInt(low);
      const end = BigInt(high);
      ranges.set(partition, { start, end });
      if (end > start) waiting += end - start;
    }
    return { ranges, waiting: Number(waiting) };
  } finally {
    await admin.disconnect();
  }
}

function replayed(topic: string, partition: number, message: KafkaMessage): ReplayedRecord {
  return {
    from: { topic, partition, offset: message.offset, timestamp: message.timestamp },
    key: message.key?.toString(),
    value: message.value?.toString(),
    headers: headersOf(message.headers),
  };
}
