import { couponKeys, OUTBOX_REGISTRY_KEY } from "@coupon/contracts";
import { luaScript, type Redis } from "@coupon/redis";
import type { IssuanceOutcome, IssuanceStore } from "../domain/issue-coupon.ts";

type IssueScript = (
  issuedKey: string,
  outboxKey: string,
  userId: string,
  nowMs: number,
  windowStartMs: number,
  windowEndMs: number,
  stock: number,
  couponId: number,
  eventId: number,
  requestId: string,
) => Promise<[number, string]>;

const OUTCOMES: Record<number, IssuanceOutcome["kind"]> = {
  1: "issued",
  2: "duplicate",
  3: "sold-out",
  4: "not-open",
  5: "closed",
};

/**
 * The issuance as one EVALSHA of lua/issue-coupon-2.lua: one Redis round trip decides, records and
 * queues the issuance for Kafka. ioredis loads the script once and reloads it on NOSCRIPT.
 */
export function createRedisIssuanceStore(redis: Redis): IssuanceStore {
  redis.defineCommand("issueCoupon", { numberOfKeys: 2, lua: luaScript("issue-coupon-2.lua") });
  const issueCoupon = (redis as unknown as { issueCoupon: IssueScript }).issueCoupon.bind(redis);
  // The relay finds outbox streams through the registry; each coupon is registered once per process.
  const registered = new Map<number, Promise<unknown>>();

  return {
    async issue(attempt) {
      let registering = registered.get(attempt.couponId);
      if (!registering) {
        registering = redis.sadd(OUTBOX_REGISTRY_KEY, String(attempt.couponId)).catch((error: unknown) => {
          registered.delete(attempt.couponId);
          throw error;
        });
        registered.set(attempt.couponId, registering);
      }
      await registering;
      const keys = couponKeys(attempt.couponId);
      const [code, issueId] = await issueCoupon(
        keys.issued,
        keys.outbox,
        attempt.userId,
        attempt.nowMs,
        attempt.windowStartMs,
        attempt.windowEndMs,
        attempt.stock,
        attempt.couponId,
        attempt.eventId,
        attempt.requestId ?? "",
      );
      const kind = OUTCOMES[code];
      if (kind === undefined) throw new Error(`issuance script returned unknown code ${code}`);
      return kind === "issued" ? { kind, issueId } : { kind };
    },
  };
}
