// The entry point of the records, as a route is for requests: parse each record, hand the valid
// ones to the store, send what could not be stored to the retry or dead-letter topic, and only
// then commit the offsets.
import type { EachBatchPayload, KafkaMessage } from "kafkajs";
import {
  type DeadLetterKind,
  deadLetterHeaders,
  type Headers,
  headersOf,
  logContextOf,
  type RecordPosition,
  readRetryState,
  retryHeaders,
} from "./headers.ts";
import { whileHeartbeating } from "./heartbeat.ts";
import type { OutgoingRecord, RecordPublisher } from "./record-publisher.ts";
import { type Backoff, backoffDelay, nextStep, type RetryPolicy } from "./retry-policy.ts";

/** A record as the parser sees it: text, without kafkajs. */
export interface IncomingRecord {
  key: string | undefined;
  value: string | undefined;
  headers: Headers;
}

/** A value to store, or poison: a record no retry can make storable, dead-lettered at once. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** What the store did with the values of a chunk. */
export type StoreResult =
  /** Every value is stored except the rejected ones, named by their index in the values passed. */
  | { available: true; rejected: readonly { index: number; error: string }[] }
  /**
   * The store can take nothing right now (its database is down…). Not the records' fault: nothing
   * advances and nothing is parked; the same records are tried again after a backoff.
   */
  | { available: false; error: string };

/** Stores a chunk's values; rejects only on a bug (kafkajs then retries the batch). */
export type Store<T> = (values: readonly T[], source: string) => Promise<StoreResult>;

/** Hooks for metrics; `source` names the consumer that counted. */
export interface ConsumerEvents {
  retried?(source: string): void;
  deadLettered?(source: string, kind: DeadLetterKind): void;
  storeUnavailable?(source: string): void;
  /** A fetched batch was handled: how far its partition's consumer is behind, and how long it took. */
  batchProcessed?(source: string, batch: ProcessedBatch): void;
  /** kafkajs gave up on the consumer for a transient reason; a new one starts after a backoff. */
  restarted?(source: string): void;
}

export interface ProcessedBatch {
  topic: string;
  partition: number;
  /** Records between the batch's last offset and the partition's high watermark. */
  lag: number;
  size: number;
  durationMs: number;
}

type LogFn = (fields: Record<string, unknown>, message: string) => void;

/** The subset of a pino logger the handler writes to. */
export interface RecordLogger {
  debug: LogFn;
  warn: LogFn;
  error: LogFn;
  isLevelEnabled(level: "debug"): boolean;
  child(bindings: Record<string, unknown>): RecordLogger;
}

/** What the log lines call the store and a stored value: "<store> unavailable…", "<value> stored". */
export interface LogNames {
  store: string;
  value: string;
}

export interface BatchHandlerOptions<T> {
  /** Names this consumer in log lines and events. */
  source: string;
  /** True on the retry topic: each record's retry headers say which pass it is on and when it is due. */
  readsRetryTopic: boolean;
  retryTopic: string;
  deadLetterTopic: string;
  parse: (record: IncomingRecord) => Parsed<T>;
  store: Store<T>;
  publisher: RecordPublisher;
  retryPolicy: RetryPolicy;
  /** How long to leave the store alone after it was found unavailable, by consecutive failures. */
  unavailableBackoff: Backoff;
  /** Most records per store call; larger fetched batches are handled and committed in chunks. */
  batchSize: number;
  /** How often to heartbeat while a chunk is being stored, so that a slow one keeps the membership. */
  heartbeatIntervalMs: number;
  logger: RecordLogger;
  names: LogNames;
  /** Fields of the debug line about a stored value. */
  storedLogFields?: (value: T) => Record<string, unknown>;
  events?: ConsumerEvents;
  now?: () => number;
}

interface ReadRecord<T> {
  message: KafkaMessage;
  position: RecordPosition;
  headers: Headers;
  parsed: Parsed<T>;
  /** Retries the record has been through, the current one included (0 on the main topic). */
  retries: number;
  /** Epoch milliseconds before which it must not be tried (0 on the main topic). */
  notBefore: number;
}

interface Retried<T> {
  record: ReadRecord<T>;
  attempt: number;
  notBefore: number;
  error: string;
}

interface Parked<T> {
  record: ReadRecord<T>;
  kind: DeadLetterKind;
  error: string;
}

/** Where each record of a stored chunk goes. */
interface Routes<T> {
  stored: { record: ReadRecord<T>; value: T }[];
  retried: Retried<T>[];
  parked: Parked<T>[];
}

type Handler = (payload: EachBatchPayload) => Promise<void>;

/** Builds the kafkajs `eachBatch` handler of one consumer (run it with autoCommit off). */
export function createBatchHandler<T>(options: BatchHandlerOptions<T>): Handler {
  const now = options.now ?? Date.now;
  const outage = storeOutage(options.unavailableBackoff, now);

  /** Stores, re-routes and reports one chunk; false when the store was unavailable and nothing may advance. */
  async function handleChunk(records: ReadRecord<T>[]): Promise<boolean> {
    const valid = records.flatMap((record) =>
      record.parsed.ok ? [{ record, value: record.parsed.value }] : [],
    );
    const result =
      valid.length === 0
        ? ({ available: true, rejected: [] } as const)
        : await options.store(
            valid.map((v) => v.value),
            options.source,
          );
    if (!result.available) {
      reportUnavailable(options, records.length, outage.failed(), result.error);
      return false;
    }
    outage.ended();
    const routes = route(records, valid, result.rejected, options.retryPolicy, now());
    await options.publisher.publish(outgoing(routes, options, new Date(now())));
    reportRoutes(routes, options);
    return true;
  }

  return async (payload) => {
    const { batch, resolveOffset, commitOffsetsIfNecessary, uncommittedOffsets, heartbeat } = payload;
    let pending = batch.messages;
    // A stop between chunks leaves the rest uncommitted: the next owner of the partition reads it.
    while (pending.length > 0 && payload.isRunning() && !payload.isStale()) {
      const blockedFor = outage.blockedUntil() - now();
      if (blockedFor > 0) return pauseFor(payload.pause, blockedFor);
      const chunk = pending
        .slice(0, options.batchSize)
        .map((message) => readRecord(batch.topic, batch.partition, message, options));
      const { ready, waitMs } = due(chunk, now());
      if (ready.length > 0) {
        const stored = await whileHeartbeating(heartbeat, options.heartbeatIntervalMs, () =>
          handleChunk(ready),
        );
        if (!stored) return pauseFor(payload.pause, outage.blockedUntil() - now());
        resolveOffset((ready.at(-1) as ReadRecord<T>).message.offset);
        await commitOffsetsIfNecessary(uncommittedOffsets());
        await heartbeat();
      }
      if (waitMs > 0) return pauseFor(payload.pause, waitMs);
      pending = pending.slice(ready.length);
    }
  };
}

/** Consecutive failures of the store, and until when to leave it alone. */
function storeOutage(backoff: Backoff, now: () => number) {
  let failures = 0;
  let until = 0;
  return {
    /** Counts a failure and returns the failure count and the delay it earned. */
    failed(): { failures: number; delayMs: number } {
      failures += 1;
      const delayMs = backoffDelay(failures, backoff);
      until = now() + delayMs;
      return { failures, delayMs };
    },
    ended(): void {
      failures = 0;
    },
    blockedUntil: () => until,
  };
}

// Pausing the partition, rather than sleeping here, keeps the consumer heartbeating, lets the other
// partitions go on, and lets a shutdown stop the consumer without waiting for the delay. Unpaused,
// kafkajs fetches again from the first offset that was not resolved.
function pauseFor(pause: EachBatchPayload["pause"], ms: number): void {
  const resume = pause();
  setTimeout(resume, ms).unref();
}

function readRecord<T>(
  topic: string,
  partition: number,
  message: KafkaMessage,
  options: Pick<BatchHandlerOptions<T>, "parse" | "readsRetryTopic">,
): ReadRecord<T> {
  const headers = headersOf(message.headers);
  const retry = options.readsRetryTopic ? readRetryState(headers) : { attempt: 0, notBefore: 0 };
  return {
    message,
    position: { topic, partition, offset: message.offset, timestamp: message.timestamp },
    headers,
    parsed: options.parse({ key: message.key?.toString(), value: message.value?.toString(), headers }),
    retries: retry.attempt,
    notBefore: retry.notBefore,
  };
}

/** The leading records that are due, and how long until the first one that is not. */
function due<T>(records: ReadRecord<T>[], at: number): { ready: ReadRecord<T>[]; waitMs: number } {
  const first = records.findIndex((r) => r.notBefore > at);
  if (first < 0) return { ready: records, waitMs: 0 };
  return { ready: records.slice(0, first), waitMs: (records[first] as ReadRecord<T>).notBefore - at };
}

/** Poison goes to the dead-letter topic; a rejected record to its next retry, or, after the last, there too. */
function route<T>(
  records: readonly ReadRecord<T>[],
  valid: readonly { record: ReadRecord<T>; value: T }[],
  rejected: readonly { index: number; error: string }[],
  policy: RetryPolicy,
  at: number,
): Routes<T> {
  const routes: Routes<T> = { stored: [], retried: [], parked: [] };
  for (const record of records) {
    if (!record.parsed.ok) routes.parked.push({ record, kind: "poison", error: record.parsed.reason });
  }
  const refused = new Map(rejected.map(({ index, error }) => [index, error]));
  for (const [index, item] of valid.entries()) {
    const error = refused.get(index);
    if (error === undefined) {
      routes.stored.push(item);
      continue;
    }
    const step = nextStep(item.record.retries, policy, at);
    if (step.action === "dead-letter") routes.parked.push({ record: item.record, kind: "rejected", error });
    else
      routes.retried.push({ record: item.record, attempt: step.attempt, notBefore: step.notBefore, error });
  }
  return routes;
}

/** The retry and dead-letter copies: the original key and value bytes, the headers extended. */
function outgoing<T>(
  routes: Routes<T>,
  topics: Pick<BatchHandlerOptions<T>, "retryTopic" | "deadLetterTopic">,
  at: Date,
): OutgoingRecord[] {
  return [
    ...routes.retried.map(({ record, attempt, notBefore, error }) => ({
      topic: topics.retryTopic,
      key: record.message.key,
      value: record.message.value,
      headers: retryHeaders(record.headers, { position: record.position, attempt, notBefore, error }),
    })),
    ...routes.parked.map(({ record, kind, error }) => ({
      topic: topics.deadLetterTopic,
      key: record.message.key,
      value: record.message.value,
      headers: deadLetterHeaders(record.headers, {
        position: record.position,
        kind,
        error,
        attempts: record.retries,
        at,
      }),
    })),
  ];
}

function reportUnavailable<T>(
  { source, names, logger, events }: BatchHandlerOptions<T>,
  records: number,
  { failures, delayMs }: { failures: number; delayMs: number },
  error: string,
): void {
  events?.storeUnavailable?.(source);
  logger.warn(
    { source, records, failures, retry_in_ms: delayMs, error },
    `${names.store} unavailable, the batch will be tried again`,
  );
}

function reportRoutes<T>(routes: Routes<T>, options: BatchHandlerOptions<T>): void {
  const { source, names, events } = options;
  for (const { record, attempt, notBefore, error } of routes.retried) {
    events?.retried?.(source);
    logAbout(
      options,
      record,
      "warn",
      { error, retry_attempt: attempt, not_before: new Date(notBefore).toISOString() },
      `the ${names.store} rejected the record, it will be retried`,
    );
  }
  for (const { record, kind, error } of routes.parked) {
    events?.deadLettered?.(source, kind);
    logAbout(
      options,
      record,
      "error",
      { error, kind, retries: record.retries },
      "record parked in the dead-letter topic",
    );
  }
  if (!options.logger.isLevelEnabled("debug")) return;
  for (const { record, value } of routes.stored) {
    logAbout(options, record, "debug", options.storedLogFields?.(value) ?? {}, `${names.value} stored`);
  }
}

/** A line about one record, with where it sits and the request and trace ids its producer passed along. */
function logAbout<T>(
  { source, logger }: Pick<BatchHandlerOptions<T>, "source" | "logger">,
  record: ReadRecord<T>,
  level: "debug" | "warn" | "error",
  fields: Record<string, unknown>,
  message: string,
): void {
  const { topic, partition, offset } = record.position;
  logger.child(logContextOf(record.headers))[level]({ source, topic, partition, offset, ...fields }, message);
}
