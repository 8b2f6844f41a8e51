export { type CouponView, couponKeys, couponViewSchema, fromCacheHash, toCacheHash } from "./coupon.ts";
export { type CouponIssued, couponIssuedSchema } from "./coupon-issued.ts";
