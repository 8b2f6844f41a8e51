import { env, z } from "@coupon/config";
import { Cluster, type RedisOptions, Redis as Server } from "ioredis";

/**
 * A connection to one Redis server (directly or through Sentinel) or to a Redis Cluster. Code that
 * takes it may use only what both offer: commands, scripts and pipelines whose keys share one hash
 * slot. Where the two differ (WAIT, blocking reads over many keys, pipelines across coupons), it
 * asks `isCluster`.
 */
export type Redis = Server | Cluster;
export type { Cluster as RedisCluster, Server as RedisServer };

export const isCluster = (redis: Redis): redis is Cluster => redis instanceof Cluster;

/**
 * The Redis part of a service's environment. Locally a plain URL; in Kubernetes the Sentinel
 * addresses and master name, so that clients follow a failover to the new master; or the nodes of a
 * Redis Cluster, when issuance is spread over several masters.
 */
export const redisEnv = {
  REDIS_URL: env.url(["redis", "rediss"]).optional(),
  REDIS_SENTINELS: env.list().optional(),
  REDIS_SENTINEL_MASTER: z.string().trim().min(1).default("coupon-redis"),
  /** Some of the cluster's nodes (host:port); the client learns the others and the slots from them. */
  REDIS_CLUSTER_NODES: env.list().optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_KEY_PREFIX: z.string().default(""),
};

export type RedisEnv = z.infer<z.ZodObject<typeof redisEnv>>;

/** REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES are alternatives: exactly one must be set. */
export function checkRedisEnv(config: RedisEnv, ctx: z.RefinementCtx): void {
  const given = [config.REDIS_URL, config.REDIS_SENTINELS, config.REDIS_CLUSTER_NODES].filter(
    (v) => v !== undefined,
  ).length;
  if (given !== 1) {
    ctx.addIssue({
      code: "custom",
      path: ["REDIS_URL"],
      message:
        "set exactly one of REDIS_URL, REDIS_SENTINELS (host:port,...) and REDIS_CLUSTER_NODES (host:port,...)",
    });
  }
  // Cluster slots follow the first {...} of a key: a brace in the prefix would put every key of
  // every coupon in one slot, or split a coupon's keys over several.
  if (config.REDIS_CLUSTER_NODES && /[{}]/.test(config.REDIS_KEY_PREFIX)) {
    ctx.addIssue({
      code: "custom",
      path: ["REDIS_KEY_PREFIX"],
      message:
        "must not contain { or } on a Redis Cluster: the keys' {coupon:ID} hash tags decide their slots",
    });
  }
}

function parseHostPort(address: string, defaultPort: number): { host: string; port: number } {
  const separator = address.lastIndexOf(":");
  if (separator <= 0) return { host: address, port: defaultPort };
  return { host: address.slice(0, separator), port: Number(address.slice(separator + 1)) };
}

/** The options of a connection to one server, also each node's on a cluster. */
function commonOptions(config: RedisEnv, connectionName: string): RedisOptions {
  return {
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
}

/** The options of a connection to one server, given by URL or found through Sentinel. */
export function redisOptions(config: RedisEnv, connectionName: string): RedisOptions {
  const common = commonOptions(config, connectionName);
  if (config.REDIS_SENTINELS) {
    return {
      ...common,
      sentinels: config.REDIS_SENTINELS.map((address) => parseHostPort(address, 26379)),
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

/** What a caller may change in the options of its connection, on one server and on a cluster alike. */
export type RedisOverrides = Pick<
  RedisOptions,
  "commandTimeout" | "enableAutoPipelining" | "maxRetriesPerRequest"
>;

/** A Cluster when REDIS_CLUSTER_NODES is set: the key prefix and auto-pipelining are the cluster's, the rest each node's. */
export function createRedis(config: RedisEnv, connectionName: string, overrides: RedisOverrides = {}): Redis {
  if (!config.REDIS_CLUSTER_NODES)
    return new Server({ ...redisOptions(config, connectionName), ...overrides });
  const { keyPrefix, enableAutoPipelining, ...perNode } = {
    ...commonOptions(config, connectionName),
    ...overrides,
  };
  return new Cluster(
    config.REDIS_CLUSTER_NODES.map((address) => parseHostPort(address, 6379)),
    { keyPrefix, enableAutoPipelining, redisOptions: perNode },
  );
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
