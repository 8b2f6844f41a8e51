import { luaScript, type Redis } from "@coupon/redis";
import type { Lease } from "../domain/ports.ts";

export interface RedisLeaseOptions {
  key: string;
  /** Names this holder; must differ between holders (replicas, or jobs in one process). */
  holder: string;
  ttlMs: number;
}

interface LeaseCommands {
  leaseHold(key: string, holder: string, ttlMs: number): Promise<number>;
  leaseRelease(key: string, holder: string): Promise<number>;
}

/**
 * A lease in Redis: a key holding the holder's token with an expiry. Taking and renewing are one
 * script, releasing another, so that a check of the holder and the change it allows are atomic.
 */
export function createRedisLease(redis: Redis, options: RedisLeaseOptions): Lease {
  redis.defineCommand("leaseHold", { numberOfKeys: 1, lua: luaScript("lease-hold-1.lua") });
  redis.defineCommand("leaseRelease", { numberOfKeys: 1, lua: luaScript("lease-release-1.lua") });
  const commands = redis as unknown as LeaseCommands;
  return {
    hold: async () => (await commands.leaseHold(options.key, options.holder, options.ttlMs)) === 1,
    release: async () => {
      await commands.leaseRelease(options.key, options.holder);
    },
  };
}
