import { AppError } from "@coupon/problems";
import type { Request, RequestHandler } from "express";
import type { Principal, Role } from "./claims.ts";
import { AuthError, type JwtVerifier } from "./verifier.ts";

const principals = new WeakMap<Request, Principal>();

/**
 * Requires a valid bearer token and records who it names. The user id comes only from the token:
 * headers such as X-User-Id are never read, so a client cannot act for someone else.
 */
export function authenticate(verifier: JwtVerifier): RequestHandler {
  return async (req, _res, next) => {
    principals.set(req, await verifier.verify(bearerToken(req.headers.authorization)));
    next();
  };
}

const BEARER = /^Bearer\s+(\S+)$/i;

/** The token of an `Authorization: Bearer <token>` header; a 401 problem when there is none. */
export function bearerToken(authorization: string | undefined): string {
  const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
  if (token === undefined) {
    throw new AuthError("NOT_TOKEN", "send an access token as Authorization: Bearer <token>");
  }
  return token;
}

export const ACCESS_DENIED_CODE = "ACCESS_DENIED";

export function requireRole(role: Role): RequestHandler {
  return (req, _res, next) => {
    if (principalOf(req).role !== role) {
      throw new AppError({
        status: 403,
        code: ACCESS_DENIED_CODE,
        title: "Forbidden",
        detail: `this operation needs the ${role} role`,
      });
    }
    next();
  };
}

/** The verified caller of a request that passed authenticate(). */
export function principalOf(req: Request): Principal {
  const principal = principals.get(req);
  if (!principal) throw new Error("principalOf() called on a route without authenticate()");
  return principal;
}
