import { env, loadConfig, z } from "@coupon/config";
import { databaseEnv } from "@coupon/db";
import { httpServiceEnv } from "@coupon/http";
import { COUPON_ISSUED_DLT_TOPIC, COUPON_ISSUED_RETRY_TOPIC, COUPON_ISSUED_TOPIC } from "@coupon/kafka";

/** What the service and the replay command both need to reach the topics. */
const kafkaEnv = {
  KAFKA_BROKERS: env.list(),
  KAFKA_CLIENT_ID: env.string().default("issue-consumer"),
  // Configurable so that tests (and a second environment on one cluster) can use their own topics.
  KAFKA_ISSUED_TOPIC: env.string().default(COUPON_ISSUED_TOPIC),
  KAFKA_RETRY_TOPIC: env.string().default(COUPON_ISSUED_RETRY_TOPIC),
  KAFKA_DLT_TOPIC: env.string().default(COUPON_ISSUED_DLT_TOPIC),
  /** Longest a fetch waits for records; also bounds how long stopping a consumer takes. */
  KAFKA_MAX_WAIT_MS: env.positiveInt(500),
};

export const configSchema = z
  .object({
    ...httpServiceEnv,
    ...kafkaEnv,
    PORT: env.port(8084),
    KAFKA_CONSUMER_GROUP: env.string().default("issue-consumer"),
    KAFKA_RETRY_CONSUMER_GROUP: env.string().default("issue-consumer-retry"),
    /**
     * A dead consumer's partitions move to the others after this long without its heartbeat, and a
     * restarted one waits as long for its dead predecessor to leave the group. Short, because a
     * live consumer heartbeats even while a chunk is being stored (see whileHeartbeating).
     */
    KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).default(10_000),
    /** Most rows in one INSERT; a fetched batch larger than this is stored and committed in chunks. */
    CONSUMER_BATCH_SIZE: env.positiveInt(500),
    /**
     * A fetch waits for this many bytes (or KAFKA_MAX_WAIT_MS): under load, batches of hundreds of
     * records instead of a few, each costing one INSERT, one offset commit and one fetch.
     */
    KAFKA_MIN_BYTES: env.positiveInt(16_384),
    RETRY_MAX_ATTEMPTS: env.positiveInt(3),
    RETRY_BACKOFF_MS: env.positiveInt(1_000),
    RETRY_BACKOFF_MAX_MS: env.positiveInt(60_000),
    ...databaseEnv,
    /** How long a query waits for a connection; while the database is down, each try fails after this. */
    DATABASE_ACQUIRE_TIMEOUT_MS: env.positiveInt(10_000),
    /** 0: a slow insert is waited for (the consumer heartbeats meanwhile), not abandoned and sent again. */
    DATABASE_SOCKET_TIMEOUT_MS: z.coerce.number().int().min(0).default(0),
    DATABASE_BACKOFF_MS: env.positiveInt(250),
    DATABASE_BACKOFF_MAX_MS: env.positiveInt(10_000),
  })
  .refine((c) => c.RETRY_BACKOFF_MAX_MS >= c.RETRY_BACKOFF_MS, {
    path: ["RETRY_BACKOFF_MAX_MS"],
    message: "must not be below RETRY_BACKOFF_MS",
  })
  .refine((c) => c.DATABASE_BACKOFF_MAX_MS >= c.DATABASE_BACKOFF_MS, {
    path: ["DATABASE_BACKOFF_MAX_MS"],
    message: "must not be below DATABASE_BACKOFF_MS",
  })
  .refine((c) => new Set([c.KAFKA_ISSUED_TOPIC, c.KAFKA_RETRY_TOPIC, c.KAFKA_DLT_TOPIC]).size === 3, {
    path: ["KAFKA_DLT_TOPIC"],
    message: "KAFKA_ISSUED_TOPIC, KAFKA_RETRY_TOPIC and KAFKA_DLT_TOPIC must be three different topics",
  })
  // kafkajs's round-robin assigner spreads every topic that any member subscribed to over all members.
  .refine((c) => c.KAFKA_CONSUMER_GROUP !== c.KAFKA_RETRY_CONSUMER_GROUP, {
    path: ["KAFKA_RETRY_CONSUMER_GROUP"],
    message: "must differ from KAFKA_CONSUMER_GROUP",
  });

export type Config = z.infer<typeof configSchema>;

export const readConfig = (): Config => loadConfig(configSchema);

export const replayConfigSchema = z.object({
  ...kafkaEnv,
  /** The replay command's own group: its committed offsets mark what was already replayed. */
  KAFKA_REPLAY_CONSUMER_GROUP: env.string().default("issue-consumer-replay"),
});

export type ReplayConfig = z.infer<typeof replayConfigSchema>;

export const readReplayConfig = (): ReplayConfig => loadConfig(replayConfigSchema);
