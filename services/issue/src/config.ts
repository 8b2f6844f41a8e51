import { authEnv } from "@coupon/auth";
import { env, loadConfig, z } from "@coupon/config";
import { httpServiceEnv } from "@coupon/http";
import { COUPON_ISSUED_TOPIC } from "@coupon/kafka";
import { checkRedisEnv, redisEnv } from "@coupon/redis";

export const configSchema = z
  .object({
    ...httpServiceEnv,
    ...redisEnv,
    ...authEnv,
    PORT: env.port(8083),
    /**
     * HTTP worker processes. Above 1 this process forks them (they share PORT) and runs the relay
     * itself: on a machine with cores to spare, without a second pod. Kubernetes scales with pods.
     */
    HTTP_WORKERS: env.positiveInt(1),
    KAFKA_BROKERS: env.list(),
    KAFKA_CLIENT_ID: env.string().default("issue"),
    KAFKA_ISSUED_TOPIC: env.string().default(COUPON_ISSUED_TOPIC),
    COUPON_SERVICE_URL: env.url(["http", "https"]),
    COUPON_SERVICE_TIMEOUT_MS: env.positiveInt(2_000),
    COUPON_NOT_FOUND_TTL_MS: env.positiveInt(1_000),
    /**
     * How long after a request reaches Redis the issuance script may still decide it; later it
     * refuses, so a command that waited out an outage cannot accept after its request was answered.
     */
    ISSUE_DEADLINE_MS: env.positiveInt(500),
    /** How much longer the reply is waited for than the deadline (its way back, clock skew). */
    ISSUE_REPLY_GRACE_MS: env.positiveInt(200),
    /**
     * 0 (off): a 201 as soon as the master accepted. Above 0: a 201 only once a replica holds the
     * acceptance (WAIT 1 <ms> after the script), so a failover cannot lose it; not confirmed in that
     * time, the answer is 503 ISSUANCE_UNCONFIRMED. Needs one master (REDIS_URL or REDIS_SENTINELS).
     */
    ISSUE_REPLICA_ACK_MS: z.coerce.number().int().min(0).default(0),
    RELAY_ENABLED: env.boolean(true),
    RELAY_GROUP: env.string().default("outbox-relay"),
    /** Defaults to the host name: the pod name in Kubernetes, stable across the relay's restarts. */
    RELAY_CONSUMER: env.string().optional(),
    RELAY_BATCH_SIZE: env.positiveInt(500),
    RELAY_BLOCK_MS: env.positiveInt(1_000),
    /** How long a partial batch waits for more entries before it is published (0: not at all). */
    RELAY_LINGER_MS: z.coerce.number().int().min(0).default(50),
    /** Also how often (every half of it) the relay takes finished coupons out of its registry. */
    RELAY_CLAIM_IDLE_MS: env.positiveInt(30_000),
    /** How long after a coupon's window closed its (empty) outbox stream is read no more. */
    RELAY_RETIRE_AFTER_MS: env.positiveInt(60_000),
    RELAY_MAX_BACKOFF_MS: env.positiveInt(5_000),
    /** On a Redis Cluster (no blocking read over several coupons' streams), the pause after an empty round. */
    RELAY_CLUSTER_POLL_MS: env.positiveInt(50),
  })
  .superRefine(checkRedisEnv)
  .superRefine((config, ctx) => {
    if (config.ISSUE_REPLICA_ACK_MS > 0 && config.REDIS_CLUSTER_NODES) {
      ctx.addIssue({
        code: "custom",
        path: ["ISSUE_REPLICA_ACK_MS"],
        message:
          "must be 0 with REDIS_CLUSTER_NODES: WAIT has no key, so a cluster client cannot send it to the master that decided",
      });
    }
  });

export type Config = z.infer<typeof configSchema>;

export const readConfig = (): Config => loadConfig(configSchema);
