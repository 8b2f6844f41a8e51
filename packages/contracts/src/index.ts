export {
  type CouponView,
  couponKeys,
  couponViewSchema,
  type IssuanceTerms,
  type IssuanceTermsWriter,
  issuanceTermsOf,
  OUTBOX_REGISTRY_KEY,
  type TermsWriteResult,
} from "./coupon.ts";
export { type CouponIssued, couponIssuedSchema } from "./coupon-issued.ts";
export { isUserId } from "./user-id.ts";
