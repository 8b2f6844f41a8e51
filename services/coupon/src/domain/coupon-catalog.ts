import { type CouponView, issuanceTermsOf } from "@coupon/contracts";
import type { Logger } from "@coupon/logging";
import { type CouponStats, couponStats, type EventView, toCouponView, toEventView } from "./model.ts";
import {
  type CouponCache,
  type CouponRepository,
  DependencyUnavailableError,
  type IssuedCounter,
  type TermsInForce,
} from "./ports.ts";
import {
  type ChangeDecision,
  type CouponChange,
  decideCouponChange,
  type FieldViolation,
  type NewCoupon,
  type NewEvent,
  strictestTerms,
} from "./rules.ts";
import { singleFlight } from "./single-flight.ts";

export interface CouponCatalogDeps {
  repository: CouponRepository;
  cache: CouponCache;
  issued: IssuedCounter;
  terms: TermsInForce;
  logger: Logger;
}

export type ChangeCouponResult =
  | { ok: true; coupon: CouponView }
  | { ok: false; reason: "COUPON_NOT_FOUND" }
  | { ok: false; reason: "INVALID_WINDOW" | "STOCK_BELOW_ISSUED"; violations: FieldViolation[] };

export interface CouponCatalog {
  createEvent(event: NewEvent): Promise<EventView>;
  /** undefined when the event does not exist. */
  createCoupon(coupon: NewCoupon): Promise<CouponView | undefined>;
  changeCoupon(couponId: number, change: CouponChange): Promise<ChangeCouponResult>;
  getCoupon(couponId: number): Promise<CouponView | undefined>;
  /** undefined when the event does not exist. */
  listCoupons(eventId: number): Promise<CouponView[] | undefined>;
  stats(couponId: number): Promise<CouponStats | undefined>;
}

/**
 * Events and coupons with the original project's caching: writes go to the database only and then
 * drop the cached view (write-around); reads try the shared Redis copy first, then the database, and
 * fill the copy (look-aside). Concurrent reads of one coupon in this process share one lookup, so a
 * cold cache under a burst of requests costs one database read, not one per request.
 */
export function createCouponCatalog({
  repository,
  cache,
  issued,
  terms,
  logger,
}: CouponCatalogDeps): CouponCatalog {
  const coalesce = singleFlight<number, CouponView | undefined>();

  async function lookUp(couponId: number): Promise<CouponView | undefined> {
    try {
      const cached = await cache.get(couponId);
      if (cached) return cached.found ? cached.view : undefined;
    } catch (error) {
      // Redis trouble must not take reads down with it: the database still answers, and the
      // single flight keeps that to one read per coupon and process at a time.
      logger.warn({ err: error, couponId }, "coupon cache unreadable, reading the database");
    }
    const stored = await repository.findCoupon(couponId);
    const view = stored ? toCouponView(stored) : undefined;
    try {
      await (view ? cache.put(view) : cache.putNotFound(couponId));
    } catch (error) {
      logger.warn({ err: error, couponId }, "coupon cache not filled");
    }
    return view;
  }

  const getCoupon = (couponId: number) => coalesce(couponId, () => lookUp(couponId));

  return {
    createEvent: async (event) => toEventView(await repository.createEvent(event)),

    async createCoupon(coupon) {
      const stored = await repository.createCoupon(coupon);
      if (!stored) return undefined;
      try {
        // A reader may have cached "not found" for this id just before it existed.
        await cache.invalidate(stored.id);
      } catch (error) {
        // Failing the request would invite a retry that creates a second coupon; the stale entry
        // can only be a "not found", which expires within the short negative TTL.
        logger.warn({ err: error, couponId: stored.id }, "cache entry of a new coupon not dropped");
      }
      return toCouponView(stored);
    },

    async changeCoupon(couponId, change) {
      // Rows only grow, so reading them before the row is locked gives a floor that still holds.
      const persisted = await repository.countPersisted(couponId);
      const result = await repository.changeCoupon(couponId, async (current): Promise<ChangeDecision> => {
        const decision = decideCouponChange(current, change, persisted);
        if (!decision.ok) return decision;
        const next = { ...current, ...decision.terms, termsVersion: current.termsVersion + 1 };
        // Before the commit, the stricter of the old and new terms goes into force: a lower stock
        // binds every issuance from here on, decided against the issued set in the same atomic step.
        const interim = strictestTerms(
          issuanceTermsOf(toCouponView(current)),
          issuanceTermsOf(toCouponView(next)),
        );
        const written = await terms.write(interim, { refuseBelowIssued: true });
        if (written.kind === "below-issued") {
          return {
            ok: false,
            reason: "STOCK_BELOW_ISSUED",
            violations: [
              {
                field: "maxQuantity",
                message: `must be at least ${written.issued}, the number already issued`,
              },
            ],
          };
        }
        if (written.kind === "stale") {
          throw new Error(
            `coupon ${couponId}: Redis holds terms version ${written.storedVersion}, newer than the database's ${current.termsVersion}`,
          );
        }
        return decision;
      });
      if (!result) return { ok: false, reason: "COUPON_NOT_FOUND" };
      if (!result.ok) return result;
      // Committed: now the new terms themselves, which may also loosen (a higher stock, a later end).
      // A newer change may have been written already ("stale"), and then it rightly stays.
      try {
        await terms.write(issuanceTermsOf(toCouponView(result.coupon)), { refuseBelowIssued: false });
      } catch (error) {
        if (!(error instanceof DependencyUnavailableError)) throw error;
        throw new DependencyUnavailableError(
          "the change is saved, but only the stricter of the old and new terms is in force for issuance; send the change again",
          { cause: error },
        );
      }
      // Write-around: the database has the new terms; the next read loads them. An error here
      // reaches the caller, whose retry of this idempotent change drops the entry again.
      await cache.invalidate(couponId);
      return { ok: true, coupon: toCouponView(result.coupon) };
    },

    getCoupon,

    async listCoupons(eventId) {
      const coupons = await repository.listCoupons(eventId);
      return coupons?.map(toCouponView);
    },

    async stats(couponId) {
      const view = await getCoupon(couponId);
      if (!view) return undefined;
      const [inRedis, persisted] = await Promise.all([
        issued.count(couponId),
        repository.countPersisted(couponId),
      ]);
      return couponStats(view, inRedis, persisted);
    },
  };
}
