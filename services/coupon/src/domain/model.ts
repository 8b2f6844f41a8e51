import type { CouponView } from "@coupon/contracts";

export type DiscountType = "PERCENT" | "AMOUNT";

export interface StoredEvent {
  id: number;
  name: string;
  startsAt: Date;
  endsAt: Date;
}

/** A coupon row with the window of its event, which is the coupon's issuance window. */
export interface StoredCoupon {
  id: number;
  eventId: number;
  discountType: DiscountType;
  discountRate: number | null;
  discountPrice: number | null;
  maxQuantity: number;
  issuedQuantity: number;
  validFrom: Date;
  validUntil: Date;
  termsVersion: number;
  event: { startsAt: Date; endsAt: Date };
}

export interface EventView {
  eventId: number;
  name: string;
  startsAt: string;
  endsAt: string;
}

/** What an operator watches during an event. */
export interface CouponStats {
  couponId: number;
  maxQuantity: number;
  /** Accepted issuances: the size of the coupon's issued set in Redis. */
  issued: number;
  /** Issuances that have reached the database (rows in coupon_issues). */
  persisted: number;
  remaining: number;
}

export function toEventView(event: StoredEvent): EventView {
  return {
    eventId: event.id,
    name: event.name,
    startsAt: event.startsAt.toISOString(),
    endsAt: event.endsAt.toISOString(),
  };
}

export function toCouponView(coupon: StoredCoupon): CouponView {
  return {
    couponId: coupon.id,
    eventId: coupon.eventId,
    discountType: coupon.discountType,
    discountRate: coupon.discountRate,
    discountPrice: coupon.discountPrice,
    maxQuantity: coupon.maxQuantity,
    validFrom: coupon.validFrom.toISOString(),
    validUntil: coupon.validUntil.toISOString(),
    issueStartsAt: coupon.event.startsAt.toISOString(),
    issueEndsAt: coupon.event.endsAt.toISOString(),
    termsVersion: coupon.termsVersion,
  };
}

export function couponStats(view: CouponView, issued: number, persisted: number): CouponStats {
  return {
    couponId: view.couponId,
    maxQuantity: view.maxQuantity,
    issued,
    persisted,
    // The issued set can outgrow a stock that was lowered while issuances were in flight.
    remaining: Math.max(0, view.maxQuantity - issued),
  };
}
