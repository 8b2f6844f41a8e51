import type { JwkSet } from "@coupon/auth";
import { Router } from "express";

/** How long verifiers and the edge may cache the set; a token with an unknown kid refreshes it sooner. */
const MAX_AGE_SEC = 300;

export function jwksRoutes(jwks: JwkSet): Router {
  const router = Router();
  const body = JSON.stringify(jwks);
  router.get("/.well-known/jwks.json", (_req, res) => {
    res.set("cache-control", `public, max-age=${MAX_AGE_SEC}`).type("application/jwk-set+json").send(body);
  });
  return router;
}
