import { parseInput } from "@coupon/http";
import { AppError, NotFoundError, ServiceUnavailableError, ValidationError } from "@coupon/problems";
import type { Express } from "express";
import { z } from "zod";
import { DependencyUnavailableError } from "../domain/ports.ts";
import { couponChangeSchema, idString, newCouponSchema } from "../domain/rules.ts";
import type { RouteDeps } from "./events.ts";

export const couponParams = z.object({ couponId: idString() });
export const listQuery = z.object({ eventId: idString() });

const couponNotFound = (couponId: number) =>
  new NotFoundError("COUPON_NOT_FOUND", `coupon ${couponId} does not exist`);

export function couponRoutes(app: Express, { catalog, adminOnly }: RouteDeps): void {
  app.post("/coupons", ...adminOnly, async (req, res) => {
    const input = parseInput(newCouponSchema, req.body);
    const coupon = await catalog.createCoupon(input);
    if (!coupon) {
      // 404 with the original code, and the field named as in a 400, so a client can point at it.
      throw new AppError({
        status: 404,
        code: "EVENT_NOT_FOUND",
        title: "Not found",
        detail: `event ${input.eventId} does not exist`,
        errors: [{ field: "eventId", message: "no such event" }],
      });
    }
    res.status(201).location(`/coupons/${coupon.couponId}`).json(coupon);
  });

  app.patch("/coupons/:couponId", ...adminOnly, async (req, res) => {
    const { couponId } = parseInput(couponParams, req.params, "params");
    const change = parseInput(couponChangeSchema, req.body);
    let result: Awaited<ReturnType<typeof catalog.changeCoupon>>;
    try {
      result = await catalog.changeCoupon(couponId, change);
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError)) throw error;
      throw new ServiceUnavailableError("ISSUANCE_TERMS_UNAVAILABLE", "Service unavailable", error.message);
    }
    if (result.ok) {
      res.json(result.coupon);
      return;
    }
    switch (result.reason) {
      case "COUPON_NOT_FOUND":
        throw couponNotFound(couponId);
      case "INVALID_WINDOW":
        throw new ValidationError(result.violations);
      case "STOCK_BELOW_ISSUED":
        throw new AppError({
          status: 409,
          code: "COUPON_STOCK_BELOW_ISSUED",
          title: "Conflict",
          detail: result.violations.map((v) => `${v.field}: ${v.message}`).join("; "),
          errors: result.violations,
        });
    }
  });

  app.get("/coupons", async (req, res) => {
    const { eventId } = parseInput(listQuery, req.query, "query");
    const coupons = await catalog.listCoupons(eventId);
    if (!coupons) throw new NotFoundError("EVENT_NOT_FOUND", `event ${eventId} does not exist`);
    res.json({ eventId, coupons });
  });

  app.get("/coupons/:couponId", async (req, res) => {
    const { couponId } = parseInput(couponParams, req.params, "params");
    const coupon = await catalog.getCoupon(couponId);
    if (!coupon) throw couponNotFound(couponId);
    res.json(coupon);
  });

  app.get("/coupons/:couponId/stats", async (req, res) => {
    const { couponId } = parseInput(couponParams, req.params, "params");
    const stats = await catalog.stats(couponId);
    if (!stats) throw couponNotFound(couponId);
    res.json(stats);
  });
}
