export {
  type CouponView,
  couponKeys,
  couponViewSchema,
  fromCacheHash,
  type IssuanceTerms,
  type IssuanceTermsWriter,
  issuanceTermsOf,
  OUTBOX_REGISTRY_KEY,
  type TermsWriteResult,
  toCacheHash,
} from "./coupon.ts";
export { type CouponIssued, couponIssuedSchema } from "./coupon-issued.ts";
export { isUserId } from "./user-id.ts";
