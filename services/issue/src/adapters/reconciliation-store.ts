import { couponKeys, OUTBOX_REGISTRY_KEY } from "@coupon/contracts";
import type { PrismaClient } from "@coupon/db";
import type { Redis } from "@coupon/redis";
import type { CouponState } from "../domain/reconciliation.ts";

export interface CouponSnapshot {
  eventId: number;
  state: CouponState;
}

/**
 * Coupons that were issued from: the database's coupons that have a set of issued users in Redis,
 * and those in the relay's registry of outbox streams (which forgets a coupon once its window has
 * closed, and may name one the database does not have).
 */
export async function issuedCouponIds(redis: Redis, prisma: PrismaClient): Promise<number[]> {
  const coupons = await prisma.coupon.findMany({ select: { id: true } });
  const ids = coupons.map((coupon) => Number(coupon.id));
  const issued = await Promise.all(ids.map((id) => redis.exists(couponKeys(id).issued)));
  const registered = (await redis.smembers(OUTBOX_REGISTRY_KEY)).map(Number);
  return [...new Set([...ids.filter((_, i) => issued[i] === 1), ...registered])].sort((a, b) => a - b);
}

/** Reads one coupon from Redis and the database; undefined when the database has no such coupon. */
export async function loadCouponSnapshot(
  redis: Redis,
  prisma: PrismaClient,
  couponId: number,
): Promise<CouponSnapshot | undefined> {
  const coupon = await prisma.coupon.findUnique({
    where: { id: BigInt(couponId) },
    select: { maxQuantity: true, eventId: true },
  });
  if (!coupon) return undefined;
  const keys = couponKeys(couponId);
  // The set is read before the outbox and the rows: an issuance accepted in between is then at worst
  // counted as persisted or in flight, never reported missing.
  const acceptedUsers = await redis.smembers(keys.issued);
  const unannouncedUsers = await redis.smembers(keys.unannounced);
  const outbox = await redis.xrange(keys.outbox, "-", "+");
  const rows = await prisma.couponIssue.findMany({
    where: { couponId: BigInt(couponId) },
    select: { userId: true },
  });
  const inFlightUsers = outbox.flatMap(([, fields]) => {
    const at = fields.indexOf("userId");
    return at >= 0 && at + 1 < fields.length ? [fields[at + 1] as string] : [];
  });
  return {
    eventId: Number(coupon.eventId),
    state: {
      couponId,
      stock: coupon.maxQuantity,
      acceptedUsers,
      inFlightUsers,
      persistedUsers: rows.map((row) => String(row.userId)),
      unannouncedUsers,
    },
  };
}

/**
 * Puts accepted-but-lost issuances back into the coupon's outbox, exactly as the issuance script
 * writes them, so the relay and the idempotent consumer finish the job.
 */
export async function reemitIssuances(
  redis: Redis,
  couponId: number,
  eventId: number,
  userIds: readonly string[],
  now = Date.now(),
): Promise<void> {
  if (userIds.length === 0) return;
  const { outbox } = couponKeys(couponId);
  // The registry lives in a slot of its own: on a cluster it cannot share the coupon's pipeline.
  await redis.sadd(OUTBOX_REGISTRY_KEY, String(couponId));
  const pipeline = redis.pipeline();
  for (const userId of userIds) {
    pipeline.xadd(
      outbox,
      "*",
      "couponId",
      String(couponId),
      "eventId",
      String(eventId),
      "userId",
      userId,
      "issuedAt",
      String(now),
      "requestId",
      "reconciliation",
    );
  }
  const results = (await pipeline.exec()) ?? [];
  const failure = results.find(([error]) => error);
  if (failure) throw failure[0];
}
