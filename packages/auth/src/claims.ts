import { isUserId } from "@coupon/contracts";

export const ROLES = ["user", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as the verified token says; nothing else in a request can set it. */
export interface Principal {
  userId: string;
  role: Role;
}

/** What every access token says. */
export interface AccessTokenClaims {
  sub: string;
  role: Role;
  iss: string;
  aud: string;
  iat: number;
  exp: number;
}

export interface AccessTokenTerms {
  issuer: string;
  audience: string;
  expiresInSec: number;
}

/**
 * The claims of an access token, built here only: the user service's logins, the load generator's
 * tokens and the test issuer's all come from this, so they cannot drift from what the verifier reads.
 */
export function accessTokenClaims(
  principal: Principal,
  terms: AccessTokenTerms,
  issuedAtMs: number,
): AccessTokenClaims {
  const iat = Math.floor(issuedAtMs / 1000);
  return {
    sub: principal.userId,
    role: principal.role,
    iss: terms.issuer,
    aud: terms.audience,
    iat,
    exp: iat + terms.expiresInSec,
  };
}

const isRole = (value: unknown): value is Role => ROLES.includes(value as Role);

/**
 * The principal of claims whose signature, issuer, audience, exp and nbf jsonwebtoken has checked;
 * a string naming what is wrong with the claims it does not know about (or lets pass when absent).
 */
export function principalFromClaims(
  claims: Record<string, unknown>,
  nowSec: number,
  clockToleranceSec: number,
): Principal | string {
  // jsonwebtoken checks exp only when it is present; a token without one would never expire.
  if (typeof claims.exp !== "number") return "the token has no expiry";
  // jsonwebtoken reads iat only for maxAge; a token issued in the future is a forged or broken clock.
  if (typeof claims.iat !== "number" || claims.iat > nowSec + clockToleranceSec) {
    return "the token has no valid issue time";
  }
  if (!isUserId(claims.sub)) return "the token names no user";
  if (!isRole(claims.role)) return "the token carries no known role";
  return { userId: claims.sub, role: claims.role };
}
