import { authEnv } from "@coupon/auth";
import { env, loadConfig, z } from "@coupon/config";
import { databaseEnv } from "@coupon/db";
import { httpServiceEnv } from "@coupon/http";
import { checkRedisEnv, redisEnv } from "@coupon/redis";

export const configSchema = z
  .object({
    ...httpServiceEnv,
    ...redisEnv,
    ...authEnv,
    PORT: env.port(8082),
    ...databaseEnv,
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
