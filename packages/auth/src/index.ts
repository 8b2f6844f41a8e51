import { env } from "@coupon/config";

export { accessTokenClaims, type Principal, ROLES, type Role } from "./claims.ts";
export { importPublicJwk, type JwkSet, type PublicJwk, rsaThumbprint, toPublicJwk } from "./jwk.ts";
export { decodeJwt, signJwt, type TokenSigningKey } from "./jwt.ts";
export { authenticate, bearerToken, principalOf, requireRole } from "./middleware.ts";
export { type BearerAuthOptions, bearerAuth } from "./openapi.ts";
export {
  createRemoteJwks,
  JwksUnavailableError,
  type KeyResolver,
  type RemoteJwksOptions,
} from "./remote-jwks.ts";
export {
  AuthError,
  type AuthErrorCode,
  createJwtVerifier,
  type JwtVerifier,
  type JwtVerifierOptions,
} from "./verifier.ts";

/** The token-verification part of a service's environment. */
export const authEnv = {
  JWT_JWKS_URL: env.url(["http", "https"]),
  JWT_ISSUER: env.string().default("coupon-user-service"),
  JWT_AUDIENCE: env.string().default("coupon-platform"),
};
