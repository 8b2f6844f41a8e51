import { accessTokenClaims, signJwt, type TokenSigningKey } from "@coupon/auth";
import type { AccessTokenIssuer } from "../domain/accounts.ts";

export interface JwtAccessTokenIssuerOptions {
  signingKey: TokenSigningKey;
  issuer: string;
  audience: string;
  expiresInSec: number;
  now?: () => number;
}

export function createJwtAccessTokenIssuer(options: JwtAccessTokenIssuerOptions): AccessTokenIssuer {
  const { signingKey, issuer, audience, expiresInSec, now = Date.now } = options;
  return {
    issue(user) {
      const claims = accessTokenClaims(
        { userId: user.id.toString(), role: user.role },
        { issuer, audience, expiresInSec },
        now(),
      );
      return { accessToken: signJwt(claims, signingKey), expiresInSec };
    },
  };
}
