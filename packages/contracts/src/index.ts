export {
  type CouponView,
  couponKeys,
  couponViewSchema,
  fromCacheHash,
  OUTBOX_REGISTRY_KEY,
  toCacheHash,
} from "./coupon.ts";
export { type CouponIssued, couponIssuedSchema } from "./coupon-issued.ts";
export { isUserId } from "./user-id.ts";
