import { couponKeys, type IssuanceTermsWriter, OUTBOX_REGISTRY_KEY } from "@coupon/contracts";
import type { Redis } from "./index.ts";
import { luaScript } from "./lua.ts";

type TermsScript = (
  termsKey: string,
  issuedKey: string,
  ...args: (string | number)[]
) => Promise<[number, number]>;

/** lua/coupon-terms-2.lua: the only writer of `{coupon:ID}:terms`, in the coupon and the issue service. */
export function createIssuanceTermsWriter(redis: Redis): IssuanceTermsWriter {
  redis.defineCommand("writeCouponTerms", { numberOfKeys: 2, lua: luaScript("coupon-terms-2.lua") });
  const writeTerms = (redis as unknown as { writeCouponTerms: TermsScript }).writeCouponTerms.bind(redis);
  return {
    async write(terms, { refuseBelowIssued }) {
      const keys = couponKeys(terms.couponId);
      const [code, n] = await writeTerms(
        keys.terms,
        keys.issued,
        terms.version,
        terms.eventId,
        terms.stock,
        terms.startsAtMs,
        terms.endsAtMs,
        terms.validUntilMs,
        refuseBelowIssued ? "1" : "0",
      );
      if (code === 1) {
        // Terms that reopen a coupon the relay retired (its window had closed) must bring its
        // outbox stream back to the relay's attention before anything is issued under them. After
        // the write, not before: a relay retiring the coupon meanwhile checks the terms again.
        await redis.sadd(OUTBOX_REGISTRY_KEY, String(terms.couponId));
        return { kind: "written" };
      }
      if (code === 0) return { kind: "stale", storedVersion: n };
      if (code === -1) return { kind: "below-issued", issued: n };
      throw new Error(`coupon-terms script returned unknown code ${code}`);
    },
  };
}
