import { env, z } from "@coupon/config";
import { Redis, type RedisOptions } from "ioredis";

export type { Redis } from "ioredis";

/**
 * The Redis part of a service's environment. Locally a plain URL; in Kubernetes the Sentinel
 * addresses and master name, so that clients follow a failover to the new master.
 */
export const redisEnv = {
  REDIS_URL: env.url(["redis", "rediss"]).optional(),
  REDIS_SENTINELS: env.list().optional(),
  REDIS_SENTINEL_MASTER: z.string().trim().min(1).default("coupon-redis"),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_KEY_PREFIX: z.string().default(""),
};

export type RedisEnv = z.infer<z.ZodObject<typeof redisEnv>>;

/** REDIS_URL and REDIS_SENTINELS are alternatives: exactly one must be set. */
export function checkRedisEnv(config: RedisEnv, ctx: z.RefinementCtx): void {
  const given = [config.REDIS_URL, config.REDIS_SENTINELS].filter((v) => v !== undefined).length;
  if (given !== 1) {
    ctx.addIssue({
      code: "custom",
      path: ["REDIS_URL"],
      message: "set either REDIS_URL or REDIS_SENTINELS (host:port,...), not both and not neither",
    });
  }
}

function parseHostPort(address: string): { host: string; port: number } {
  const separator = address.lastIndexOf(":");
  if (separator <= 0) return { host: address, port: 26379 };
  return { host: address.slice(0, separator), port: Number(address.slice(separator + 1)) };
}

export function redisOptions(config: RedisEnv, connectionName: string): RedisOptions {
  const common: RedisOptions = {
    connectionName,
    keyPrefix: config.REDIS_KEY_PREFIX,
    // Requests fail fast while Redis is unreachable instead of queueing without bound.
    maxRetriesPerRequest: 2,
    // A master demoted by a failover answers writes with READONLY while this connection still
    // points at it: reconnect (through Sentinel, to the new master) and send the command again.
    reconnectOnError: (error) => (error.message.startsWith("READONLY") ? 2 : false),
    enableAutoPipelining: true,
    ...(config.REDIS_PASSWORD ? { password: config.REDIS_PASSWORD } : {}),
  };
  if (config.REDIS_SENTINELS) {
    return {
      ...common,
      sentinels: config.REDIS_SENTINELS.map(parseHostPort),
      name: config.REDIS_SENTINEL_MASTER,
      ...(config.REDIS_PASSWORD ? { sentinelPassword: config.REDIS_PASSWORD } : {}),
    };
  }
  const url = new URL(config.REDIS_URL ?? "redis://127.0.0.1:6379");
  return {
    ...common,
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
    ...(url.protocol === "rediss:" ? { tls: {} } : {}),
  };
}

export function createRedis(config: RedisEnv, connectionName: string, overrides: RedisOptions = {}): Redis {
  return new Redis({ ...redisOptions(config, connectionName), ...overrides });
}

/** Closes gracefully: pending replies arrive first; falls back to disconnect if Redis is gone. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === "end") return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

export { createIssuanceTermsWriter } from "./issuance-terms.ts";
export { luaScript } from "./lua.ts";
export { isRedisOutageError, isRedisUnavailable } from "./outage.ts";
