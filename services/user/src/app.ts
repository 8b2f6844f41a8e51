import type { JwkSet, JwtVerifier } from "@coupon/auth";
import { isDatabaseUnavailable } from "@coupon/db";
import { createHttpApp, type HttpApp, type ServiceAppDeps } from "@coupon/http";
import { isRedisOutageError } from "@coupon/redis";
import type { AccountService } from "./domain/accounts.ts";
import { jwksRoutes } from "./routes/jwks.ts";
import { userApi } from "./routes/openapi.ts";
import { userRoutes } from "./routes/users.ts";

export interface AppDeps extends ServiceAppDeps {
  accounts: AccountService;
  verifier: JwtVerifier;
  jwks: JwkSet;
  /** Express's `trust proxy` setting (TRUST_PROXY). */
  trustProxy: boolean | number | string[];
}

export function buildApp({ accounts, verifier, jwks, trustProxy, ...http }: AppDeps): HttpApp {
  return createHttpApp({
    service: "user",
    ...http,
    unavailableWhen: { database: isDatabaseUnavailable, redis: isRedisOutageError },
    openApi: userApi,
    routes: (routes) => {
      routes.set("trust proxy", trustProxy);
      routes.use(jwksRoutes(jwks));
      routes.use(userRoutes({ accounts, verifier, registry: http.registry }));
    },
  });
}
