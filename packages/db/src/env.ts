import { env, z } from "@coupon/config";

/** A service's database variables, with the defaults of a service that answers requests. */
export const databaseEnv = {
  DATABASE_URL: env.url(["mysql", "mariadb"]),
  DATABASE_POOL_SIZE: env.positiveInt(10),
  /** A request waits this long for a pooled connection before it is answered 503. */
  DATABASE_ACQUIRE_TIMEOUT_MS: env.positiveInt(2_000),
  /** A query whose server stays silent this long fails (503); 0 waits for ever. */
  DATABASE_SOCKET_TIMEOUT_MS: z.coerce.number().int().min(0).default(5_000),
};

export type DatabaseEnv = z.infer<z.ZodObject<typeof databaseEnv>>;
