export { type BatchConsumer, type BatchConsumerOptions, startBatchConsumer } from "./batch-consumer.ts";
export {
  type BatchHandlerOptions,
  type ConsumerEvents,
  createBatchHandler,
  type IncomingRecord,
  type LogNames,
  type Parsed,
  type ProcessedBatch,
  type RecordLogger,
  type Store,
  type StoreResult,
} from "./batch-handler.ts";
export {
  type CreateKafkaOptions,
  createKafka,
  type KafkaLogger,
  type KafkaLogLevel,
  parseBrokers,
} from "./client.ts";
export {
  type ReplayedRecord,
  type ReplayOptions,
  type ReplayResult,
  replayDeadLetters,
} from "./dlt-replayer.ts";
export {
  type DeadLetterKind,
  deadLetterHeaders,
  HEADER,
  type Headers,
  headersOf,
  headerValue,
  logContextOf,
  type RecordPosition,
  readRetryState,
  replayHeaders,
  retryHeaders,
} from "./headers.ts";
export { whileHeartbeating } from "./heartbeat.ts";
export { createKafkaReadiness, type KafkaReadiness } from "./readiness.ts";
export { createKafkaRecordPublisher, type OutgoingRecord, type RecordPublisher } from "./record-publisher.ts";
export { type Backoff, backoffDelay, nextStep, type RetryPolicy } from "./retry-policy.ts";
export {
  type RetryingConsumer,
  type RetryingConsumerOptions,
  startRetryingConsumer,
} from "./retrying-consumer.ts";
export {
  COUPON_ISSUED_DLT_TOPIC,
  COUPON_ISSUED_RETRY_TOPIC,
  COUPON_ISSUED_TOPIC,
  TOPICS,
  type TopicDefinition,
  toTopicConfigs,
} from "./topics.ts";
