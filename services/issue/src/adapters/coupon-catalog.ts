import { type CouponView, couponKeys, couponViewSchema, fromCacheHash, toCacheHash } from "@coupon/contracts";
import type { Redis } from "@coupon/redis";
import type { CouponCatalog } from "../domain/issue-coupon.ts";

export class CouponServiceUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CouponServiceUnavailableError";
  }
}

export interface CouponCatalogOptions {
  redis: Redis;
  couponServiceUrl: string;
  /** How long this process trusts what it has read: short, so a changed coupon is seen soon. */
  localTtlMs: number;
  /** TTL of the shared Redis copy that the coupon service invalidates on change. */
  redisTtlMs: number;
  /** How long "no such coupon" is remembered, so a flood of unknown ids stays in process. */
  notFoundTtlMs: number;
  requestTimeoutMs: number;
  now?: () => number;
  fetch?: typeof fetch;
}

interface Entry {
  view: CouponView | undefined;
  expiresAt: number;
}

/**
 * Look-aside in three tiers: this process's memory, then the Redis hash, then the coupon service
 * over HTTP (whose answer is written to Redis). Concurrent misses for one coupon share one load.
 */
export function createCouponCatalog(options: CouponCatalogOptions): CouponCatalog {
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? fetch;
  const local = new Map<number, Entry>();
  const loading = new Map<number, Promise<CouponView | undefined>>();

  async function fromCouponService(couponId: number): Promise<CouponView | undefined> {
    let res: Response;
    try {
      res = await doFetch(`${options.couponServiceUrl}/coupons/${couponId}`, {
        signal: AbortSignal.timeout(options.requestTimeoutMs),
        headers: { accept: "application/json" },
      });
    } catch (error) {
      throw new CouponServiceUnavailableError(`coupon service unreachable: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (res.status === 404) return undefined;
    if (!res.ok) throw new CouponServiceUnavailableError(`coupon service answered ${res.status}`);
    const parsed = couponViewSchema.safeParse(await res.json());
    if (!parsed.success) throw new CouponServiceUnavailableError("coupon service sent an unexpected body");
    const key = couponKeys(couponId).meta;
    await options.redis.multi().hset(key, toCacheHash(parsed.data)).pexpire(key, options.redisTtlMs).exec();
    return parsed.data;
  }

  async function load(couponId: number): Promise<CouponView | undefined> {
    const view =
      fromCacheHash(await options.redis.hgetall(couponKeys(couponId).meta)) ??
      (await fromCouponService(couponId));
    local.set(couponId, {
      view,
      expiresAt: now() + (view ? options.localTtlMs : options.notFoundTtlMs),
    });
    return view;
  }

  return {
    find(couponId) {
      const entry = local.get(couponId);
      if (entry && entry.expiresAt > now()) return Promise.resolve(entry.view);
      let pending = loading.get(couponId);
      if (!pending) {
        pending = load(couponId).finally(() => loading.delete(couponId));
        loading.set(couponId, pending);
      }
      return pending;
    },
  };
}
