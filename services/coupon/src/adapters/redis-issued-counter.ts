import { couponKeys } from "@coupon/contracts";
import type { Redis } from "@coupon/redis";
import type { IssuedCounter } from "../domain/ports.ts";

/** SCARD of the issued sets; many at once travel in one pipeline (the client auto-pipelines). */
export function createRedisIssuedCounter(redis: Redis): IssuedCounter {
  const count = (couponId: number) => redis.scard(couponKeys(couponId).issued);
  return {
    count,
    counts: (couponIds) => Promise.all(couponIds.map(count)),
  };
}
