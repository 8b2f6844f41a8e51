import { isUserId } from "@coupon/contracts";
import { AppError, ServiceUnavailableError } from "@coupon/http";
import { checkRs256Signature, decodeJwt } from "./jwt.ts";
import { JwksUnavailableError, type KeyResolver } from "./remote-jwks.ts";

export const ROLES = ["user", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as the verified token says; nothing else in a request can set it. */
export interface Principal {
  userId: string;
  role: Role;
}

export type AuthErrorCode = "NOT_TOKEN" | "EXPIRED_TOKEN" | "INVALID_TOKEN";

const TITLES: Record<AuthErrorCode, string> = {
  NOT_TOKEN: "Authentication required",
  EXPIRED_TOKEN: "Token expired",
  INVALID_TOKEN: "Invalid token",
};

export const AUTH_ERROR_CODES = Object.keys(TITLES) as AuthErrorCode[];

/** The 503 code when the keys cannot be fetched: the token may be fine, so the client should retry. */
export const KEYS_UNAVAILABLE_CODE = "AUTH_UNAVAILABLE";

export class AuthError extends AppError {
  constructor(code: AuthErrorCode, detail: string) {
    super({
      status: 401,
      code,
      title: TITLES[code],
      detail,
      headers: {
        "www-authenticate": `Bearer error="${code === "NOT_TOKEN" ? "invalid_request" : "invalid_token"}"`,
      },
    });
  }
}

export interface JwtVerifierOptions {
  keys: KeyResolver;
  issuer: string;
  audience: string;
  /** Allowed difference between this clock and the issuer's, for exp, nbf and iat. */
  clockToleranceSec?: number;
  now?: () => number;
}

export interface JwtVerifier {
  verify(token: string): Promise<Principal>;
}

const isRole = (value: unknown): value is Role => ROLES.includes(value as Role);

export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const tolerance = options.clockToleranceSec ?? 5;
  const now = options.now ?? Date.now;
  const invalid = (detail: string) => new AuthError("INVALID_TOKEN", detail);

  return {
    async verify(token) {
      const decoded = decodeJwt(token);
      if (!decoded) throw invalid("the token is not a signed JWT");
      // Only RS256: "none", HS256 keyed with the public key and every other algorithm are refused
      // before any key is looked up.
      if (decoded.header.alg !== "RS256") throw invalid(`algorithm ${decoded.header.alg} is not accepted`);
      const kid = decoded.header.kid;
      if (typeof kid !== "string" || kid.length === 0) throw invalid("the token names no signing key (kid)");

      let key: Awaited<ReturnType<KeyResolver["getKey"]>>;
      try {
        key = await options.keys.getKey(kid);
      } catch (error) {
        if (error instanceof JwksUnavailableError) {
          throw new ServiceUnavailableError(
            KEYS_UNAVAILABLE_CODE,
            "Token verification unavailable",
            "the signing keys cannot be fetched; try again shortly",
          );
        }
        throw error;
      }
      if (!key) throw invalid("the token is signed with an unknown key");
      if (!checkRs256Signature(decoded, key)) throw invalid("the token signature does not verify");

      const claims = decoded.payload;
      const nowSec = now() / 1000;
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
