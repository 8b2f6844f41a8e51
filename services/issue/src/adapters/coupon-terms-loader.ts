import {
  couponViewSchema,
  type IssuanceTerms,
  type IssuanceTermsWriter,
  issuanceTermsOf,
} from "@coupon/contracts";
import { isRedisUnavailable } from "@coupon/redis";
import { type CouponTermsLoader, DependencyUnavailableError } from "../domain/issue-coupon.ts";

export interface CouponTermsLoaderOptions {
  writer: IssuanceTermsWriter;
  couponServiceUrl: string;
  requestTimeoutMs: number;
  /** How long "no such coupon" is remembered, so a flood of unknown ids stays in this process. */
  notFoundTtlMs: number;
  now?: () => number;
  fetch?: typeof fetch;
}

const MAX_REMEMBERED_UNKNOWN = 10_000;

const couponServiceDown = (message: string, cause?: unknown) =>
  new DependencyUnavailableError("coupon-service", message, cause === undefined ? undefined : { cause });

/**
 * Loads a coupon's terms from the coupon service (GET /coupons/{id}) and writes them into Redis for
 * the issuance script. The write never replaces newer terms (a change the coupon service wrote
 * meanwhile wins). Concurrent loads of one coupon share one request.
 */
export function createCouponTermsLoader(options: CouponTermsLoaderOptions): CouponTermsLoader {
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? fetch;
  const unknownUntil = new Map<number, number>();
  const loading = new Map<number, Promise<boolean>>();

  async function fromCouponService(couponId: number): Promise<IssuanceTerms | undefined> {
    let res: Response;
    try {
      res = await doFetch(`${options.couponServiceUrl}/coupons/${couponId}`, {
        signal: AbortSignal.timeout(options.requestTimeoutMs),
        headers: { accept: "application/json" },
      });
    } catch (error) {
      throw couponServiceDown(`coupon service unreachable: ${(error as Error).message}`, error);
    }
    if (res.status === 404) return undefined;
    if (!res.ok) throw couponServiceDown(`coupon service answered ${res.status}`);
    const parsed = couponViewSchema.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success) throw couponServiceDown("coupon service sent an unexpected body");
    return issuanceTermsOf(parsed.data);
  }

  async function load(couponId: number): Promise<boolean> {
    const terms = await fromCouponService(couponId);
    if (!terms) {
      // A flood of made-up ids must not grow this without bound; forgetting costs a request each.
      if (unknownUntil.size >= MAX_REMEMBERED_UNKNOWN) unknownUntil.clear();
      unknownUntil.set(couponId, now() + options.notFoundTtlMs);
      return false;
    }
    try {
      await options.writer.write(terms, { refuseBelowIssued: false });
    } catch (error) {
      if (!isRedisUnavailable(error)) throw error;
      throw new DependencyUnavailableError("redis", `coupon terms not written: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return true;
  }

  return {
    load(couponId) {
      const until = unknownUntil.get(couponId);
      if (until !== undefined) {
        if (until > now()) return Promise.resolve(false);
        unknownUntil.delete(couponId);
      }
      let pending = loading.get(couponId);
      if (!pending) {
        pending = load(couponId).finally(() => loading.delete(couponId));
        loading.set(couponId, pending);
      }
      return pending;
    },
  };
}
