import { bearerAuth } from "@coupon/auth";
import { type CouponView, couponViewSchema } from "@coupon/contracts";
import type { ApiSpec, AuthSpec } from "@coupon/http";
import { z } from "zod";
import type { CouponStats, EventView } from "../domain/model.ts";
import { couponChangeSchema, newCouponSchema, newEventSchema } from "../domain/rules.ts";
import { couponParams, listQuery } from "./coupons.ts";

const count = z.number().int().nonnegative();

const eventView: z.ZodType<EventView> = z.object({
  eventId: z.number().int().positive(),
  name: z.string(),
  startsAt: z.iso.datetime(),
  endsAt: z.iso.datetime(),
});

const couponStats: z.ZodType<CouponStats> = z.object({
  couponId: z.number().int().positive(),
  maxQuantity: count,
  issued: count.describe("accepted issuances (the coupon's issued set in Redis)"),
  persisted: count.describe("issuances written to the database"),
  remaining: count,
});

const couponView: z.ZodType<CouponView> = couponViewSchema;

const adminOnly: AuthSpec = bearerAuth({ role: "admin", remoteKeys: true });
const couponNotFound = { 404: { codes: ["COUPON_NOT_FOUND"] } };
const eventNotFound = { 404: { codes: ["EVENT_NOT_FOUND"] } };

export const couponApi: ApiSpec = {
  title: "Coupon service",
  version: "1.0.0",
  description: "Events and their coupons. Writes need an admin's token; reads are public.",
  operations: [
    {
      method: "post",
      path: "/events",
      operationId: "createEvent",
      summary: "Open an event: its window is the issuance window of its coupons",
      description: "`endsAt` must be after `startsAt` (400 naming `endsAt` otherwise).",
      auth: adminOnly,
      body: newEventSchema,
      responses: { 201: { description: "the event", body: eventView } },
    },
    {
      method: "post",
      path: "/coupons",
      operationId: "createCoupon",
      summary: "Create a coupon of an event",
      description:
        "A PERCENT coupon takes `discountRate` and no `discountPrice`, an AMOUNT coupon the reverse; " +
        "`validUntil` must be after `validFrom`. A broken rule is a 400 naming the field.",
      auth: adminOnly,
      body: newCouponSchema,
      responses: {
        201: {
          description: "the coupon",
          body: couponView,
          headers: { Location: "the coupon's URL" },
        },
      },
      problems: eventNotFound,
    },
    {
      method: "patch",
      path: "/coupons/:couponId",
      operationId: "changeCoupon",
      summary: "Change a coupon's stock or validity, also while it is being issued",
      description:
        "Binds every issue replica before it answers: no issuance beyond a lowered stock follows the answer. " +
        "A stock below the number already issued is refused (409); on 503 the stricter terms stay in force " +
        "and the request can be sent again.",
      auth: adminOnly,
      params: couponParams,
      body: couponChangeSchema,
      responses: { 200: { description: "the changed coupon", body: couponView } },
      problems: {
        ...couponNotFound,
        409: { codes: ["COUPON_STOCK_BELOW_ISSUED"] },
        503: {
          codes: ["ISSUANCE_TERMS_UNAVAILABLE"],
          headers: { "Retry-After": "seconds to wait before sending it again" },
        },
      },
    },
    {
      method: "get",
      path: "/coupons",
      operationId: "listCoupons",
      summary: "The coupons of an event",
      query: listQuery,
      responses: {
        200: {
          description: "the event's coupons",
          body: z.object({ eventId: z.number().int().positive(), coupons: z.array(couponView) }),
        },
      },
      problems: eventNotFound,
    },
    {
      method: "get",
      path: "/coupons/:couponId",
      operationId: "getCoupon",
      summary: "A coupon, with its issuance window (the event's)",
      params: couponParams,
      responses: { 200: { description: "the coupon", body: couponView } },
      problems: couponNotFound,
    },
    {
      method: "get",
      path: "/coupons/:couponId/stats",
      operationId: "getCouponStats",
      summary: "Issued, persisted and remaining count of a coupon",
      params: couponParams,
      responses: { 200: { description: "the counts", body: couponStats } },
      problems: couponNotFound,
    },
  ],
};
