// The hand-written JWT verifier that @coupon/auth used before it moved to jsonwebtoken (issue 14),
// kept here only so that `pnpm bench:auth` can measure it beside its replacement in the same run.
// Nothing outside bench/ may import it: the services verify with @coupon/auth. Its answer to a JWKS
// outage (503) is left out: the bench's key cache is warm.
import { type KeyObject, verify } from "node:crypto";
import { AuthError, type KeyResolver, type Principal, ROLES, type Role } from "@coupon/auth";
// The root workspace does not depend on @coupon/contracts; its source is imported as it stands.
import { isUserId } from "../../packages/contracts/src/index.ts";

interface DecodedJwt {
  header: { alg: string; kid?: string };
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function parseJsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (!BASE64URL.test(headerPart) || !BASE64URL.test(payloadPart) || !BASE64URL.test(signaturePart)) {
    return undefined;
  }
  const header = parseJsonObject(headerPart);
  const payload = parseJsonObject(payloadPart);
  if (!header || !payload || typeof header.alg !== "string") return undefined;
  return {
    header: header as unknown as DecodedJwt["header"],
    payload,
    signingInput: `${headerPart}.${payloadPart}`,
    signature: Buffer.from(signaturePart, "base64url"),
  };
}

function checkRs256Signature(decoded: DecodedJwt, publicKey: KeyObject): boolean {
  return verify("RSA-SHA256", Buffer.from(decoded.signingInput), publicKey, decoded.signature);
}

const isRole = (value: unknown): value is Role => ROLES.includes(value as Role);

export function createHandWrittenVerifier(options: { keys: KeyResolver; issuer: string; audience: string }): {
  verify(token: string): Promise<Principal>;
} {
  const tolerance = 5;
  const invalid = (detail: string) => new AuthError("INVALID_TOKEN", detail);
  return {
    async verify(token) {
      const decoded = decodeJwt(token);
      if (!decoded) throw invalid("the token is not a signed JWT");
      if (decoded.header.alg !== "RS256") throw invalid(`algorithm ${decoded.header.alg} is not accepted`);
      const kid = decoded.header.kid;
      if (typeof kid !== "string" || kid.length === 0) throw invalid("the token names no signing key (kid)");
      const key = await options.keys.getKey(kid);
      if (!key) throw invalid("the token is signed with an unknown key");
      if (!checkRs256Signature(decoded, key)) throw invalid("the token signature does not verify");

      const claims = decoded.payload;
      const nowSec = Date.now() / 1000;
      if (claims.iss !== options.issuer) throw invalid("the token was issued by someone else");
      const audience = claims.aud;
      const audiences = Array.isArray(audience) ? audience : [audience];
      if (!audiences.includes(options.audience)) throw invalid("the token is meant for another audience");
      if (typeof claims.exp !== "number") throw invalid("the token has no expiry");
      if (typeof claims.iat !== "number" || claims.iat > nowSec + tolerance) {
        throw invalid("the token has no valid issue time");
      }
      if (typeof claims.nbf === "number" && claims.nbf > nowSec + tolerance) {
        throw invalid("the token is not valid yet");
      }
      if (claims.exp <= nowSec - tolerance) throw new AuthError("EXPIRED_TOKEN", "the token has expired");
      if (!isUserId(claims.sub)) throw invalid("the token names no user");
      if (!isRole(claims.role)) throw invalid("the token carries no known role");
      return { userId: claims.sub, role: claims.role };
    },
  };
}
