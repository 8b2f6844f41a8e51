import { randomUUID } from "node:crypto";
import { ConfigError, parseConfig, z } from "@coupon/config";
import { testEndpoints } from "@coupon/testing";
import { afterAll, describe, expect, it } from "vitest";
import { checkRedisEnv, closeRedis, createRedis, isCluster, type Redis, redisEnv } from "../src/index.ts";

const endpoints = testEndpoints();
const prefix = `test:redis:${randomUUID()}:`;
const clients: Redis[] = [];

function connect(config: Parameters<typeof createRedis>[0]) {
  const redis = createRedis(config, "redis-test");
  clients.push(redis);
  return redis;
}

afterAll(async () => {
  const redis = clients[0];
  if (redis) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
  }
  await Promise.all(clients.map(closeRedis));
});

const base = { REDIS_SENTINEL_MASTER: "coupon-redis", REDIS_KEY_PREFIX: prefix };

describe("createRedis", () => {
  it("when connected by URL, then PING answers PONG", async () => {
    const redis = connect({ ...base, REDIS_URL: endpoints.redisUrl });
    expect(await redis.ping()).toBe("PONG");
  });

  it("when a Lua script is defined, then it runs atomically on prefixed keys via EVALSHA", async () => {
    const redis = connect({ ...base, REDIS_URL: endpoints.redisUrl });
    redis.defineCommand("addIfBelow", {
      numberOfKeys: 1,
      lua: "if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end return redis.call('SADD', KEYS[1], ARGV[1])",
    });
    const addIfBelow = (member: string) =>
      (redis as unknown as { addIfBelow(k: string, m: string, max: number): Promise<number> }).addIfBelow(
        "set",
        member,
        2,
      );
    expect(await Promise.all(["a", "b", "c", "a"].map(addIfBelow))).toEqual([1, 1, 0, 0]);
    expect((await redis.smembers("set")).sort()).toEqual(["a", "b"]);

    await redis.script("FLUSH");
    expect(await addIfBelow("d")).toBe(0);
  });

  it("when connected through Sentinel, then the master is discovered and answers", async () => {
    const redis = connect({
      ...base,
      REDIS_SENTINELS: endpoints.sentinels.map((s) => `${s.host}:${s.port}`),
    });
    expect(await redis.ping()).toBe("PONG");
    expect((await redis.role())[0]).toBe("master");
    expect(isCluster(redis) ? undefined : String(redis.stream.remotePort)).toBe(
      new URL(endpoints.redisUrl).port,
    );
  });
});

describe("checkRedisEnv", () => {
  const parse = (env: Record<string, string>) =>
    parseConfig(z.object(redisEnv).superRefine(checkRedisEnv), env);
  const refused = (env: Record<string, string>) => {
    try {
      parse(env);
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.issues.map((issue) => issue.variable);
    }
  };

  it("when exactly one of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES is set, then it is accepted; two or none are refused", () => {
    expect(parse({ REDIS_CLUSTER_NODES: "10.0.0.1:6379, 10.0.0.2:6379" }).REDIS_CLUSTER_NODES).toEqual([
      "10.0.0.1:6379",
      "10.0.0.2:6379",
    ]);
    expect(refused({ REDIS_SENTINELS: "s:26379" })).toEqual([]);
    expect(refused({})).toEqual(["REDIS_URL"]);
    expect(refused({ REDIS_URL: "redis://r:6379", REDIS_CLUSTER_NODES: "c:6379" })).toEqual(["REDIS_URL"]);
    expect(refused({ REDIS_SENTINELS: "s:26379", REDIS_CLUSTER_NODES: "c:6379" })).toEqual(["REDIS_URL"]);
  });

  it("when a cluster's key prefix holds a brace, then it is refused: the hash tags would no longer decide the slots", () => {
    expect(refused({ REDIS_CLUSTER_NODES: "c:6379", REDIS_KEY_PREFIX: "{app}:" })).toEqual([
      "REDIS_KEY_PREFIX",
    ]);
    expect(refused({ REDIS_URL: "redis://r:6379", REDIS_KEY_PREFIX: "{app}:" })).toEqual([]);
  });
});
