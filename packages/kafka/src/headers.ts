import type { IHeaders } from "kafkajs";

/** Record headers as text. A name that occurs more than once keeps all its values, in order. */
export type Headers = Record<string, string | string[]>;

/** kafkajs headers (Buffers, arrays for repeated names) as text. */
export function headersOf(headers: IHeaders | undefined): Headers {
  const out: Headers = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return out;
}

/** The headers a consumer (batch-handler.ts) adds on the way to its retry and dead-letter topics. */
export const HEADER = {
  /** Which retry the record is queued for (1…max); on the dead-letter topic, how many it went through. */
  retryAttempt: "x-retry-attempt",
  /** Epoch milliseconds before which the retry consumer leaves the record alone. */
  retryNotBefore: "x-retry-not-before",
  /** The last error: why the store rejected the record, or why it is poison. */
  error: "x-error",
  /** On the dead-letter topic: "poison" (can never be stored) or "rejected" (retries exhausted). */
  errorKind: "x-error-kind",
  /** Where the record was first read, kept unchanged through every retry. */
  originalTopic: "x-original-topic",
  originalPartition: "x-original-partition",
  originalOffset: "x-original-offset",
  /** The original record's Kafka timestamp, epoch milliseconds. */
  originalTimestamp: "x-original-timestamp",
  /** ISO time at which the record was parked. */
  deadLetteredAt: "x-dead-lettered-at",
  /** Set by the replay command: topic/partition/offset of the dead letter it came from. */
  replayedFrom: "x-replayed-from",
} as const;

export type DeadLetterKind = "poison" | "rejected";

/** Where a record sits in Kafka. */
export interface RecordPosition {
  topic: string;
  partition: number;
  offset: string;
  /** Kafka timestamp, epoch milliseconds as a string (kafkajs's form). */
  timestamp: string;
}

const ORIGIN = [
  HEADER.originalTopic,
  HEADER.originalPartition,
  HEADER.originalOffset,
  HEADER.originalTimestamp,
] as const;
const FAILURE = [
  HEADER.retryAttempt,
  HEADER.retryNotBefore,
  HEADER.error,
  HEADER.errorKind,
  HEADER.deadLetteredAt,
] as const;

// Headers travel with every copy of the record; a stack trace or a megabyte of SQL does not belong there.
const MAX_ERROR_LENGTH = 1000;

/** The last value of a header, if present. */
export function headerValue(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.at(-1) : value;
}

export interface RetryState {
  /** Which retry this is (1…max). */
  attempt: number;
  notBefore: number;
}

/**
 * The retry state of a record read from the retry topic. Only its consumer writes that topic; a
 * header it cannot read counts as the first retry, due now, so the record is neither lost nor stuck.
 */
export function readRetryState(headers: Headers): RetryState {
  const attempt = Number(headerValue(headers, HEADER.retryAttempt));
  const notBefore = Number(headerValue(headers, HEADER.retryNotBefore));
  return {
    attempt: Number.isSafeInteger(attempt) && attempt >= 1 ? attempt : 1,
    notBefore: Number.isFinite(notBefore) ? notBefore : 0,
  };
}

export interface RetryHeaders {
  position: RecordPosition;
  attempt: number;
  notBefore: number;
  error: string;
}

/** The headers of a record sent to the retry topic: its own, plus why and when to try again. */
export function retryHeaders(original: Headers, retry: RetryHeaders): Headers {
  return {
    ...without(original, FAILURE),
    ...origin(original, retry.position),
    [HEADER.retryAttempt]: String(retry.attempt),
    [HEADER.retryNotBefore]: String(retry.notBefore),
    [HEADER.error]: truncate(retry.error),
  };
}

export interface DeadLetterHeaders {
  position: RecordPosition;
  kind: DeadLetterKind;
  error: string;
  /** Retries the record went through; 0 for poison. */
  attempts: number;
  at: Date;
}

/** The headers of a parked record: its own, plus why, where it came from and when it was parked. */
export function deadLetterHeaders(original: Headers, dead: DeadLetterHeaders): Headers {
  return {
    ...without(original, FAILURE),
    ...origin(original, dead.position),
    [HEADER.errorKind]: dead.kind,
    [HEADER.error]: truncate(dead.error),
    [HEADER.retryAttempt]: String(dead.attempts),
    [HEADER.deadLetteredAt]: dead.at.toISOString(),
  };
}

/**
 * The headers of a dead letter sent back to the topic it came from: the producer's own (trace
 * context, request id) without the consumer's bookkeeping, so that the record starts over as if new, plus
 * where it was replayed from.
 */
export function replayHeaders(original: Headers, from: RecordPosition): Headers {
  return {
    ...without(original, [...FAILURE, ...ORIGIN, HEADER.replayedFrom]),
    [HEADER.replayedFrom]: `${from.topic}/${from.partition}/${from.offset}`,
  };
}

// Same form as the HTTP layer accepts for x-request-id.
const REQUEST_ID = /^[\w.:-]{1,128}$/;
// W3C trace context: version-traceid-parentid-flags.
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The request id and trace id the producer passed along, for the log lines about this record. */
export function logContextOf(headers: Headers): { request_id?: string; trace_id?: string } {
  const context: { request_id?: string; trace_id?: string } = {};
  const requestId = headerValue(headers, "x-request-id");
  if (requestId !== undefined && REQUEST_ID.test(requestId)) context.request_id = requestId;
  const traceId = TRACEPARENT.exec(headerValue(headers, "traceparent") ?? "")?.[1];
  if (traceId !== undefined) context.trace_id = traceId;
  return context;
}

function origin(original: Headers, position: RecordPosition): Headers {
  if (headerValue(original, HEADER.originalTopic) !== undefined) {
    return Object.fromEntries(Object.entries(original).filter(([name]) => isOneOf(name, ORIGIN)));
  }
  return {
    [HEADER.originalTopic]: position.topic,
    [HEADER.originalPartition]: String(position.partition),
    [HEADER.originalOffset]: position.offset,
    [HEADER.originalTimestamp]: position.timestamp,
  };
}

function without(headers: Headers, names: readonly string[]): Headers {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !isOneOf(name, names)));
}

function isOneOf(name: string, names: readonly string[]): boolean {
  return names.includes(name);
}

function truncate(message: string): string {
  return message.length <= MAX_ERROR_LENGTH ? message : `${message.slice(0, MAX_ERROR_LENGTH - 1)}…`;
}
