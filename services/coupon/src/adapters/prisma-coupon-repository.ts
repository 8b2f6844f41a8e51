import { Prisma, type PrismaClient } from "@coupon/db";
import type { StoredCoupon, StoredEvent } from "../domain/model.ts";
import type { CouponRepository } from "../domain/ports.ts";

const withWindow = { event: { select: { startsAt: true, endsAt: true } } } as const;

type CouponRow = Prisma.CouponGetPayload<{ include: typeof withWindow }>;

// Ids are BIGINT columns (bigint in Prisma); they stay far below 2^53, so numbers carry them exactly.
function toStoredCoupon(row: CouponRow): StoredCoupon {
  return {
    id: Number(row.id),
    eventId: Number(row.eventId),
    discountType: row.discountType,
    discountRate: row.discountRate,
    discountPrice: row.discountPrice,
    maxQuantity: row.maxQuantity,
    issuedQuantity: row.issuedQuantity,
    validFrom: row.validFrom,
    validUntil: row.validUntil,
    termsVersion: row.termsVersion,
    event: row.event,
  };
}

function toStoredEvent(row: { id: bigint; name: string; startsAt: Date; endsAt: Date }): StoredEvent {
  return { id: Number(row.id), name: row.name, startsAt: row.startsAt, endsAt: row.endsAt };
}

const isForeignKeyViolation = (error: unknown) =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2003";

export function createPrismaCouponRepository(prisma: PrismaClient): CouponRepository {
  return {
    async createEvent(event) {
      return toStoredEvent(await prisma.event.create({ data: event }));
    },

    async createCoupon(coupon) {
      const { eventId, ...fields } = coupon;
      try {
        // The foreign key decides whether the event exists: no gap between a check and the insert.
        const row = await prisma.coupon.create({
          data: { ...fields, eventId: BigInt(eventId) },
          include: withWindow,
        });
        return toStoredCoupon(row);
      } catch (error) {
        if (isForeignKeyViolation(error)) return undefined;
        throw error;
      }
    },

    async findCoupon(couponId) {
      const row = await prisma.coupon.findUnique({ where: { id: BigInt(couponId) }, include: withWindow });
      return row ? toStoredCoupon(row) : undefined;
    },

    async listCoupons(eventId) {
      const event = await prisma.event.findUnique({
        where: { id: BigInt(eventId) },
        select: { startsAt: true, endsAt: true, coupons: { orderBy: { id: "asc" } } },
      });
      if (!event) return undefined;
      const window = { startsAt: event.startsAt, endsAt: event.endsAt };
      return event.coupons.map((coupon) => toStoredCoupon({ ...coupon, event: window }));
    },

    async changeCoupon(couponId, decide) {
      const id = BigInt(couponId);
      return prisma.$transaction(async (tx) => {
        // The row lock orders concurrent changes (and the write-back's update) on this coupon, so
        // each decision is made on the terms it replaces. Under REPEATABLE READ the read below
        // takes its snapshot only now, after the lock: it sees the latest committed row.
        const locked = await tx.$queryRaw<unknown[]>`SELECT id FROM coupons WHERE id = ${id} FOR UPDATE`;
        if (locked.length === 0) return undefined;
        const current = toStoredCoupon(
          await tx.coupon.findUniqueOrThrow({ where: { id }, include: withWindow }),
        );
        const decision = await decide(current);
        if (!decision.ok) return decision;
        const row = await tx.coupon.update({
          where: { id },
          data: { ...decision.terms, termsVersion: current.termsVersion + 1 },
          include: withWindow,
        });
        return { ok: true as const, coupon: toStoredCoupon(row) };
      });
    },

    countPersisted(couponId) {
      return prisma.couponIssue.count({ where: { couponId: BigInt(couponId) } });
    },

    async writeBackCandidates(now, endedAfter) {
      const rows = await prisma.coupon.findMany({
        where: {
          event: { startsAt: { lte: now }, endsAt: { gt: endedAfter } },
          issuedQuantity: { lt: prisma.coupon.fields.maxQuantity },
        },
        select: { id: true, maxQuantity: true, issuedQuantity: true },
      });
      return rows.map((row) => ({
        couponId: Number(row.id),
        maxQuantity: row.maxQuantity,
        issuedQuantity: row.issuedQuantity,
      }));
    },

    async raiseIssuedQuantity(couponId, issued) {
      // One statement against the row as it is now: a concurrent stock change or another writer
      // cannot make it lower the value or exceed the stock.
      const changed = await prisma.$executeRaw`
        UPDATE coupons SET issued_quantity = LEAST(${issued}, max_quantity)
         WHERE id = ${BigInt(couponId)} AND issued_quantity < LEAST(${issued}, max_quantity)`;
      return changed > 0;
    },
  };
}
