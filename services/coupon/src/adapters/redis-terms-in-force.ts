import { createIssuanceTermsWriter, isRedisUnavailable, type Redis } from "@coupon/redis";
import { DependencyUnavailableError, type TermsInForce } from "../domain/ports.ts";

/** The shared terms writer (lua/coupon-terms-2.lua); an unreachable Redis becomes a 503. */
export function createRedisTermsInForce(redis: Redis): TermsInForce {
  const writer = createIssuanceTermsWriter(redis);
  return {
    async write(terms, options) {
      try {
        return await writer.write(terms, options);
      } catch (error) {
        if (!isRedisUnavailable(error)) throw error;
        throw new DependencyUnavailableError(
          `the coupon's issuance terms cannot be written right now (${(error as Error).message}); nothing was changed`,
          { cause: error },
        );
      }
    },
  };
}
