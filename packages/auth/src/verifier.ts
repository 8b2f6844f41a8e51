import type { KeyObject } from "node:crypto";
import { AppError, ServiceUnavailableError } from "@coupon/problems";
import jwt from "jsonwebtoken";
import { type Principal, principalFromClaims } from "./claims.ts";
import { JwksUnavailableError, type KeyResolver } from "./remote-jwks.ts";

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

export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const tolerance = options.clockToleranceSec ?? 5;
  const now = options.now ?? Date.now;
  const invalid = (detail: string) => new AuthError("INVALID_TOKEN", detail);

  async function keyFor(header: jwt.JwtHeader): Promise<KeyObject> {
    // Only RS256, refused here as well as by the pinned algorithms so that "none", HS256 keyed with
    // the public key and every other algorithm cost no key look-up, and no JWKS refetch when they
    // name an unknown kid.
    if (header.alg !== "RS256") throw invalid(`algorithm ${header.alg} is not accepted`);
    const kid = header.kid;
    if (typeof kid !== "string" || kid.length === 0) throw invalid("the token names no signing key (kid)");
    let key: KeyObject | undefined;
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
    return key;
  }

  return {
    verify(token) {
      const nowSec = Math.floor(now() / 1000);
      const checks: jwt.VerifyOptions = {
        algorithms: ["RS256"],
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: tolerance,
        clockTimestamp: nowSec,
      };
      return new Promise<Principal>((resolve, reject) => {
        // jsonwebtoken wraps what the key callback fails with in a JsonWebTokenError, which would
        // turn a JWKS outage (503, retry) into a refused token: the original is kept here.
        let keyError: unknown;
        jwt.verify(
          token,
          // The key callback gets the header jsonwebtoken has parsed, so the token is parsed once.
          (header, callback) => {
            keyFor(header).then(
              (key) => callback(null, key),
              (error: Error) => {
                keyError = error;
                callback(error);
              },
            );
          },
          checks,
          (error, claims) => {
            if (keyError !== undefined) return reject(keyError);
            if (error instanceof jwt.TokenExpiredError) {
              return reject(new AuthError("EXPIRED_TOKEN", "the token has expired"));
            }
            if (error) return reject(invalid(`the token does not verify: ${error.message}`));
            if (typeof claims !== "object" || claims === null) {
              return reject(invalid("the token's claims are not a JSON object"));
            }
            const principal = principalFromClaims(claims as Record<string, unknown>, nowSec, tolerance);
            if (typeof principal === "string") reject(invalid(principal));
            else resolve(principal);
          },
        );
      });
    },
  };
}
