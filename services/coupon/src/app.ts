import { authenticate, type JwtVerifier, requireRole } from "@coupon/auth";
import { isDatabaseUnavailable } from "@coupon/db";
import { createHttpApp, type HttpApp, type ServiceAppDeps } from "@coupon/http";
import { isRedisOutageError } from "@coupon/redis";
import type { CouponCatalog } from "./domain/coupon-catalog.ts";
import { couponRoutes } from "./routes/coupons.ts";
import { eventRoutes } from "./routes/events.ts";
import { couponApi } from "./routes/openapi.ts";

export interface AppDeps extends ServiceAppDeps {
  verifier: JwtVerifier;
  catalog: CouponCatalog;
}

/** Writes need an admin's token; reads are public, as the issue service and clients read coupons. */
export function buildApp({ verifier, catalog, ...deps }: AppDeps): HttpApp {
  const adminOnly = [authenticate(verifier), requireRole("admin")];
  return createHttpApp({
    service: "coupon",
    ...deps,
    unavailableWhen: { database: isDatabaseUnavailable, redis: isRedisOutageError },
    openApi: couponApi,
    routes: (app) => {
      eventRoutes(app, { catalog, adminOnly });
      couponRoutes(app, { catalog, adminOnly });
    },
  });
}
