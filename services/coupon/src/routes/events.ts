import { parseInput } from "@coupon/http";
import type { Express, RequestHandler } from "express";
import type { CouponCatalog } from "../domain/coupon-catalog.ts";
import { newEventSchema } from "../domain/rules.ts";

export interface RouteDeps {
  catalog: CouponCatalog;
  /** authenticate + requireRole("admin"). */
  adminOnly: RequestHandler[];
}

export function eventRoutes(app: Express, { catalog, adminOnly }: RouteDeps): void {
  app.post("/events", ...adminOnly, async (req, res) => {
    const event = parseInput(newEventSchema, req.body);
    res.status(201).json(await catalog.createEvent(event));
  });
}
