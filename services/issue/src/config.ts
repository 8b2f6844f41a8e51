import { env, loadConfig, serviceEnv, z } from "@coupon/config";
import { checkRedisEnv, redisEnv } from "@coupon/redis";

export const configSchema = z
  .object({
    ...serviceEnv,
    ...redisEnv,
    PORT: env.port(8083),
    KAFKA_BROKERS: env.list(),
    KAFKA_CLIENT_ID: env.string().default("issue"),
    COUPON_SERVICE_URL: env.url(["http", "https"]),
  })
  .superRefine(checkRedisEnv);

export type Config = z.infer<typeof configSchema>;

export const readConfig = (): Config => loadConfig(configSchema);
