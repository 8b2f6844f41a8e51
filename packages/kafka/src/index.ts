export {
  type CreateKafkaOptions,
  createKafka,
  type KafkaLogger,
  type KafkaLogLevel,
  parseBrokers,
} from "./client.ts";
export { whileHeartbeating } from "./heartbeat.ts";
export { createKafkaReadiness, type KafkaReadiness } from "./readiness.ts";
export {
  COUPON_ISSUED_DLT_TOPIC,
  COUPON_ISSUED_RETRY_TOPIC,
  COUPON_ISSUED_TOPIC,
  TOPICS,
  type TopicDefinition,
  toTopicConfigs,
} from "./topics.ts";
