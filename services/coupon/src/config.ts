import { authEnv } from "@coupon/auth";
import { env, loadConfig, serviceEnv, z } from "@coupon/config";
import { serverLimitsEnv } from "@coupon/http";
import { checkRedisEnv, redisEnv } from "@coupon/redis";

export const configSchema = z
  .object({
    ...serviceEnv,
    ...serverLimitsEnv,
    ...redisEnv,
    ...authEnv,
    PORT: env.port(8082),
    DATABASE_URL: env.url(["mysql", "mariadb"]),
    DATABASE_POOL_SIZE: env.positiveInt(10),
    /** A request waits this long for a pooled connection before it is answered 503. */
    DATABASE_ACQUIRE_TIMEOUT_MS: env.positiveInt(2_000),
    /** A query whose server stays silent this long fails (503); 0 waits for ever. */
    DATABASE_SOCKET_TIMEOUT_MS: z.coerce.number().int().min(0).default(5_000),
    /** Lifetime of a coupon view in Redis; the most a missed invalidation can serve old terms. */
    COUPON_CACHE_TTL_MS: env.positiveInt(60_000),
    /** Lifetime of a cached "no such coupon", which absorbs floods of unknown ids. */
    COUPON_CACHE_NOT_FOUND_TTL_MS: env.positiveInt(2_000),
    WRITE_BACK_INTERVAL_MS: env.positiveInt(5_000),
    /** After a replica running the write-back dies, another takes over within this time. */
    WRITE_BACK_LEASE_TTL_MS: env.positiveInt(15_000),
    /** How long after its event ends a coupon's count is still written back. */
    WRITE_BACK_GRACE_MS: env.positiveInt(3_600_000),
  })
  .superRefine(checkRedisEnv)
  .superRefine((config, ctx) => {
    // A lease shorter than the pause between rounds would lapse between them every time.
    if (config.WRITE_BACK_LEASE_TTL_MS <= config.WRITE_BACK_INTERVAL_MS) {
      ctx.addIssue({
        code: "custom",
        path: ["WRITE_BACK_LEASE_TTL_MS"],
        message: `must be longer than WRITE_BACK_INTERVAL_MS (${config.WRITE_BACK_INTERVAL_MS})`,
      });
    }
  });

export type Config = z.infer<typeof configSchema>;

export const readConfig = (): Config => loadConfig(configSchema);
