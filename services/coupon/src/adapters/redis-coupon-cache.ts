import { type CouponView, couponKeys, couponViewSchema } from "@coupon/contracts";
import type { Redis } from "@coupon/redis";
import type { CouponCache } from "../domain/ports.ts";

export interface RedisCouponCacheOptions {
  /** Lifetime of a cached view; bounds how long a missed invalidation can serve old terms. */
  ttlMs: number;
  /** Lifetime of a "no such coupon" entry. */
  notFoundTtlMs: number;
}

/** The hash field that holds the view, as JSON. */
const VIEW_FIELD = "view";
/** A field beside the view's: this service answers 404 from it without a database read. */
const NOT_FOUND_FIELD = "notFound";

/** The view in a cache hash; undefined when there is none or it does not parse (then it is a miss). */
export function cachedView(hash: Record<string, string>): CouponView | undefined {
  const json = hash[VIEW_FIELD];
  if (json === undefined) return undefined;
  try {
    const parsed = couponViewSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function execOrThrow(transaction: ReturnType<Redis["multi"]>): Promise<void> {
  const replies = await transaction.exec();
  const failed = replies?.find(([error]) => error);
  if (failed) throw failed[0];
}

/**
 * The coupon view in a Redis hash (`couponKeys(id).meta`): its JSON in the `view` field.
 * Fields are written, never the whole hash replaced: when both a view and a "not found" are
 * present, the view wins.
 */
export function createRedisCouponCache(redis: Redis, options: RedisCouponCacheOptions): CouponCache {
  return {
    async get(couponId) {
      const hash = await redis.hgetall(couponKeys(couponId).meta);
      const view = cachedView(hash);
      if (view) return { found: true, view };
      if (hash[NOT_FOUND_FIELD] !== undefined) return { found: false };
      return undefined;
    },

    put(view: CouponView) {
      const key = couponKeys(view.couponId).meta;
      // One transaction, so the entry never exists without its expiry.
      return execOrThrow(
        redis.multi().hset(key, VIEW_FIELD, JSON.stringify(view)).pexpire(key, options.ttlMs),
      );
    },

    putNotFound(couponId) {
      const key = couponKeys(couponId).meta;
      return execOrThrow(redis.multi().hset(key, NOT_FOUND_FIELD, "1").pexpire(key, options.notFoundTtlMs));
    },

    async invalidate(couponId) {
      await redis.del(couponKeys(couponId).meta);
    },
  };
}
