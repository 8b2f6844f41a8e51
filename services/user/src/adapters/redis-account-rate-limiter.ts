import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Redis } from "@coupon/redis";
import type { AccountRateLimiter } from "../domain/accounts.ts";

const SCRIPT = resolve(import.meta.dirname, "../../../../lua/rate-limit-hit-1.lua");

export interface RateLimitRule {
  maxAttempts: number;
  windowSec: number;
}

export interface AccountRateLimits {
  email: RateLimitRule;
  address: RateLimitRule;
  signUpAddress: RateLimitRule;
}

interface RateLimitCommands {
  rateLimitHit(key: string, windowMs: number): Promise<[count: number, ttlMs: number]>;
}

/**
 * Fixed-window counters in Redis, shared by every replica. Each counter is one key, so the script
 * stays valid on Redis Cluster without a hash tag that would put every login on one slot.
 */
export function createRedisAccountRateLimiter(redis: Redis, limits: AccountRateLimits): AccountRateLimiter {
  redis.defineCommand("rateLimitHit", { numberOfKeys: 1, lua: readFileSync(SCRIPT, "utf8") });
  const commands = redis as Redis & RateLimitCommands;
  // Hashed so that key listings and Redis monitoring do not show who tried to log in.
  const emailKey = (email: string) =>
    `login-attempts:email:${createHash("sha256").update(email).digest("base64url")}`;

  /** Seconds until the window ends when this hit is over the limit, otherwise undefined. */
  async function hit(key: string, rule: RateLimitRule): Promise<number | undefined> {
    const [count, ttlMs] = await commands.rateLimitHit(key, rule.windowSec * 1000);
    return count > rule.maxAttempts ? Math.max(1, Math.ceil(ttlMs / 1000)) : undefined;
  }

  return {
    async attempt(email, address) {
      const waits = await Promise.all([
        hit(emailKey(email), limits.email),
        hit(`login-attempts:address:${address}`, limits.address),
      ]);
      const blocked = waits.filter((wait) => wait !== undefined);
      return blocked.length === 0
        ? { allowed: true }
        : { allowed: false, retryAfterSec: Math.max(...blocked) };
    },
    async signUp(address) {
      const wait = await hit(`sign-up-attempts:address:${address}`, limits.signUpAddress);
      return wait === undefined ? { allowed: true } : { allowed: false, retryAfterSec: wait };
    },
    async reset(email) {
      await redis.del(emailKey(email));
    },
  };
}
