import type { CouponView } from "@coupon/contracts";

/** What the atomic issuance step decided. */
export type IssuanceOutcome =
  | { kind: "issued"; issueId: string }
  | { kind: "duplicate" }
  | { kind: "sold-out" }
  | { kind: "not-open" }
  | { kind: "closed" };

export interface IssuanceAttempt {
  couponId: number;
  eventId: number;
  userId: string;
  nowMs: number;
  windowStartMs: number;
  windowEndMs: number;
  stock: number;
  requestId?: string;
}

/** Decides and records an issuance atomically (duplicate, stock, window, outbox entry). */
export interface IssuanceStore {
  issue(attempt: IssuanceAttempt): Promise<IssuanceOutcome>;
}

/** Finds a coupon's metadata; undefined when the coupon does not exist. */
export interface CouponCatalog {
  find(couponId: number): Promise<CouponView | undefined>;
}

export type IssueResult =
  | (IssuanceOutcome & { coupon: CouponView; issuedAt: Date })
  | { kind: "coupon-not-found" }
  | { kind: "other-event"; coupon: CouponView };

export interface IssueCouponCommand {
  userId: string;
  eventId: number;
  couponId: number;
  requestId?: string;
}

export interface IssueCouponDeps {
  catalog: CouponCatalog;
  store: IssuanceStore;
  now: () => number;
}

export type IssueCoupon = (command: IssueCouponCommand) => Promise<IssueResult>;

export function createIssueCoupon({ catalog, store, now }: IssueCouponDeps): IssueCoupon {
  return async ({ userId, eventId, couponId, requestId }) => {
    const coupon = await catalog.find(couponId);
    if (!coupon) return { kind: "coupon-not-found" };
    if (coupon.eventId !== eventId) return { kind: "other-event", coupon };
    const nowMs = now();
    const outcome = await store.issue({
      couponId,
      eventId,
      userId,
      nowMs,
      windowStartMs: Date.parse(coupon.issueStartsAt),
      windowEndMs: Date.parse(coupon.issueEndsAt),
      stock: coupon.maxQuantity,
      requestId,
    });
    return { ...outcome, coupon, issuedAt: new Date(nowMs) };
  };
}
