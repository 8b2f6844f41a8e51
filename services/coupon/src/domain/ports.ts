import type { CouponView, IssuanceTermsWriter } from "@coupon/contracts";
import type { StoredCoupon, StoredEvent } from "./model.ts";
import type { ChangeDecision, FieldViolation, NewCoupon, NewEvent } from "./rules.ts";

export type ChangeResult =
  | { ok: true; coupon: StoredCoupon }
  | { ok: false; reason: "INVALID_WINDOW" | "STOCK_BELOW_ISSUED"; violations: FieldViolation[] };

/** A coupon the write-back job may have to bring up to date. */
export interface WriteBackCandidate {
  couponId: number;
  maxQuantity: number;
  issuedQuantity: number;
}

/** Events and coupons in the database. */
export interface CouponRepository {
  createEvent(event: NewEvent): Promise<StoredEvent>;
  /** undefined when the event does not exist. */
  createCoupon(coupon: NewCoupon): Promise<StoredCoupon | undefined>;
  findCoupon(couponId: number): Promise<StoredCoupon | undefined>;
  /** The event's coupons in creation order; undefined when the event does not exist. */
  listCoupons(eventId: number): Promise<StoredCoupon[] | undefined>;
  /**
   * Applies `decide` to the coupon as it is while no one else can change it, and stores the terms
   * it accepts with `termsVersion` one higher; nothing is stored when `decide` refuses or throws.
   * undefined when the coupon does not exist.
   */
  changeCoupon(
    couponId: number,
    decide: (current: StoredCoupon) => Promise<ChangeDecision>,
  ): Promise<ChangeResult | undefined>;
  /** Rows in coupon_issues for the coupon. */
  countPersisted(couponId: number): Promise<number>;
  /**
   * Coupons whose event has started and ended after `endedAfter`, and whose stored issued quantity
   * is still below the stock.
   */
  writeBackCandidates(now: Date, endedAfter: Date): Promise<WriteBackCandidate[]>;
  /**
   * Raises coupons.issued_quantity to `issued`, capped by the stock, never lowering it.
   * True when the row changed.
   */
  raiseIssuedQuantity(couponId: number, issued: number): Promise<boolean>;
}

/** What the cache knows about a coupon: its view, or that it does not exist. */
export type CachedCoupon = { found: true; view: CouponView } | { found: false };

/** The shared Redis copy of coupon views (look-aside). */
export interface CouponCache {
  /** undefined on a miss. */
  get(couponId: number): Promise<CachedCoupon | undefined>;
  put(view: CouponView): Promise<void>;
  putNotFound(couponId: number): Promise<void>;
  invalidate(couponId: number): Promise<void>;
}

/** The terms the issue service's script enforces, kept beside its issued sets in Redis. */
export type TermsInForce = IssuanceTermsWriter;

/** A dependency refused or did not answer for a moment: answered 503 with Retry-After. */
export class DependencyUnavailableError extends Error {
  override name = "DependencyUnavailableError";
}

/** The issued sets that the issue service's script fills: one member per user who holds the coupon. */
export interface IssuedCounter {
  count(couponId: number): Promise<number>;
  counts(couponIds: readonly number[]): Promise<number[]>;
}

/** A lease that at most one holder has at a time, and that expires unless renewed. */
export interface Lease {
  /** Takes the lease, or renews it when this holder has it already; false when another holds it. */
  hold(): Promise<boolean>;
  /** Gives the lease up if this holder has it, so another can take it at once. */
  release(): Promise<void>;
}
