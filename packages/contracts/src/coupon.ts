import { z } from "zod";

/**
 * A coupon as the coupon service answers GET /coupons/{couponId} and as it is cached in Redis:
 * everything the issue service needs to decide an issuance. The issuance window is the event's.
 * Ids are JSON numbers, as in the original API (database ids stay far below 2^53).
 */
export const couponViewSchema = z.object({
  couponId: z.number().int().positive(),
  eventId: z.number().int().positive(),
  discountType: z.enum(["PERCENT", "AMOUNT"]),
  discountRate: z.number().int().nullable(),
  discountPrice: z.number().int().nullable(),
  maxQuantity: z.number().int().nonnegative(),
  validFrom: z.iso.datetime(),
  validUntil: z.iso.datetime(),
  issueStartsAt: z.iso.datetime(),
  issueEndsAt: z.iso.datetime(),
  /** Grows with every change of the coupon's terms, so a writer of old terms cannot undo a newer change. */
  termsVersion: z.number().int().positive(),
});

export type CouponView = z.infer<typeof couponViewSchema>;

/**
 * Redis keys of one coupon. They share the hash tag {coupon:ID}, so the issuance script, which
 * touches all of them, stays valid on Redis Cluster.
 */
export function couponKeys(couponId: number) {
  const tag = `{coupon:${couponId}}`;
  return {
    /** Hash: the coupon service's cached CouponView (look-aside; deleted when the coupon changes). */
    meta: `${tag}:meta`,
    /** Hash: the terms the issuance script enforces (see IssuanceTerms); written, never expired. */
    terms: `${tag}:terms`,
    /** Set: ids of the users who hold the coupon. Its size is the issued count. */
    issued: `${tag}:issued`,
    /**
     * Set: users Redis accepted after their request had been answered 503 (the reply came past the
     * deadline): they hold the coupon without having been told so. Reconcile lists them.
     */
    unannounced: `${tag}:unannounced`,
    /** Stream: accepted issuances waiting for the relay to publish them to Kafka (the outbox). */
    outbox: `${tag}:outbox`,
    /** Stream: outbox entries the relay could not read as issuances, moved aside for an operator. */
    malformed: `${tag}:outbox:malformed`,
  };
}

/**
 * What the issuance script decides with, kept in Redis beside the issued set so that the stock and
 * the window are judged where the issuance happens: a change is in force for every replica the
 * moment it is written (lua/coupon-terms-2.lua), not when their caches expire.
 */
export interface IssuanceTerms {
  couponId: number;
  version: number;
  eventId: number;
  stock: number;
  /** The event's window, epoch milliseconds: [startsAtMs, endsAtMs). */
  startsAtMs: number;
  endsAtMs: number;
  /** The coupon's own validity end: a coupon is not issued once it can no longer be used. */
  validUntilMs: number;
}

export type TermsWriteResult =
  | { kind: "written" }
  | { kind: "stale"; storedVersion: number }
  | { kind: "below-issued"; issued: number };

/** The one way the terms are written (lua/coupon-terms-2.lua), by the coupon and the issue service. */
export interface IssuanceTermsWriter {
  /**
   * Writes the terms unless Redis holds a newer version. With `refuseBelowIssued`, a stock below
   * the number of users who already hold the coupon is refused, atomically with the issuances.
   */
  write(terms: IssuanceTerms, options: { refuseBelowIssued: boolean }): Promise<TermsWriteResult>;
}

export function issuanceTermsOf(view: CouponView): IssuanceTerms {
  return {
    couponId: view.couponId,
    version: view.termsVersion,
    eventId: view.eventId,
    stock: view.maxQuantity,
    startsAtMs: Date.parse(view.issueStartsAt),
    endsAtMs: Date.parse(view.issueEndsAt),
    validUntilMs: Date.parse(view.validUntil),
  };
}

/**
 * SET of the ids of coupons whose outbox stream the relay must watch. Added to when a coupon is
 * issued from and when its terms are written; the relay takes out a coupon whose window has closed
 * and whose stream is empty. Outside the coupons' hash tags, so it is written with its own command.
 */
export const OUTBOX_REGISTRY_KEY = "outbox:coupons";
