import { type JwtClaims, signRs256 } from "@coupon/auth";
import type { AccessTokenIssuer } from "../domain/accounts.ts";
import type { SigningKey } from "./key-ring.ts";

export interface JwtAccessTokenIssuerOptions {
  signingKey: SigningKey;
  issuer: string;
  audience: string;
  expiresInSec: number;
  now?: () => number;
}

export function createJwtAccessTokenIssuer(options: JwtAccessTokenIssuerOptions): AccessTokenIssuer {
  const { signingKey, issuer, audience, expiresInSec, now = Date.now } = options;
  return {
    issue(user) {
      const iat = Math.floor(now() / 1000);
      const claims: JwtClaims = {
        sub: user.id.toString(),
        role: user.role,
        iss: issuer,
        aud: audience,
        iat,
        exp: iat + expiresInSec,
      };
      return { accessToken: signRs256(claims, signingKey.privateKey, signingKey.kid), expiresInSec };
    },
  };
}
