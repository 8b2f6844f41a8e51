import type { KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";

/** The private key that signs, and the kid (its thumbprint) that the JWKS publishes it under. */
export interface TokenSigningKey {
  privateKey: KeyObject;
  kid: string;
}

/** Signs claims as an RS256 JWT whose header names the key. */
export function signJwt(claims: object, key: TokenSigningKey): string {
  return jwt.sign(claims, key.privateKey, { algorithm: "RS256", keyid: key.kid });
}

interface DecodedJwt {
  header: jwt.JwtHeader;
  payload: Record<string, unknown>;
}

/** Header and claims of a compact JWS whose claims are a JSON object; undefined otherwise. Verifies nothing. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  let decoded: jwt.Jwt | null;
  try {
    decoded = jwt.decode(token, { complete: true });
  } catch {
    // jws parses the claims of a `typ: JWT` token without catching what JSON.parse throws.
    return undefined;
  }
  const payload: unknown = decoded?.payload;
  if (!decoded || typeof payload !== "object" || payload === null || Array.isArray(payload)) return undefined;
  return { header: decoded.header, payload: payload as Record<string, unknown> };
}
