import { env, loadConfig, serviceEnv, z } from "@coupon/config";

export const configSchema = z.object({
  ...serviceEnv,
  PORT: env.port(8081),
  DATABASE_URL: env.url(["mysql", "mariadb"]),
  DATABASE_POOL_SIZE: env.positiveInt(10),
});

export type Config = z.infer<typeof configSchema>;

export const readConfig = (): Config => loadConfig(configSchema);
