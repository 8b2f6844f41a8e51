import { env, loadConfig, serviceEnv, z } from "@coupon/config";
import { checkRedisEnv, redisEnv } from "@coupon/redis";

export const configSchema = z
  .object({
    ...serviceEnv,
    ...redisEnv,
    PORT: env.port(8082),
    DATABASE_URL: env.url(["mysql", "mariadb"]),
    DATABASE_POOL_SIZE: env.positiveInt(10),
  })
  .superRefine(checkRedisEnv);

export type Config = z.infer<typeof configSchema>;

export const readConfig = (): Config => loadConfig(configSchema);
