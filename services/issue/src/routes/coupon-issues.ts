import { bearerToken, type JwtVerifier } from "@coupon/auth";
import { AppError, type JsonRoute, NotFoundError, parseInput, ServiceUnavailableError } from "@coupon/http";
import type { Counter } from "prom-client";
import { z } from "zod";
import { CouponServiceUnavailableError } from "../adapters/coupon-catalog.ts";
import type { IssueCoupon, IssueResult } from "../domain/issue-coupon.ts";

const id = z.union([
  z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, "expected a positive integer")
    .transform(Number),
]);

const issueRequest = z.object({ eventId: id, couponId: id });

function conflict(code: string, detail: string) {
  return new AppError({ status: 409, code, title: "Conflict", detail });
}

function forbidden(code: string, detail: string) {
  return new AppError({ status: 403, code, title: "Forbidden", detail });
}

function toHttpError(result: Exclude<IssueResult, { kind: "issued" }>, couponId: number, eventId: number) {
  switch (result.kind) {
    case "coupon-not-found":
      return new NotFoundError("COUPON_NOT_FOUND", `coupon ${couponId} does not exist`);
    case "other-event":
      return new NotFoundError("COUPON_NOT_FOUND", `coupon ${couponId} does not belong to event ${eventId}`);
    case "duplicate":
      return conflict("COUPON_ALREADY_ISSUED_BY_USER", `you already hold coupon ${couponId}`);
    case "sold-out":
      return conflict("COUPON_ISSUE_QUANTITY_EXCEEDED", `coupon ${couponId} is sold out`);
    case "not-open":
      return forbidden(
        "EVENT_NOT_OPEN",
        `event ${eventId} has not opened yet (${result.coupon.issueStartsAt})`,
      );
    case "closed":
      return forbidden("EVENT_CLOSED", `event ${eventId} has ended (${result.coupon.issueEndsAt})`);
  }
}

/** POST /coupon-issues: the hot path, served without Express (see JsonRoute). */
export function couponIssueRoute(deps: {
  verifier: JwtVerifier;
  issueCoupon: IssueCoupon;
  outcomes: Counter<"outcome">;
}): JsonRoute {
  return {
    method: "POST",
    path: "/coupon-issues",
    async handle({ body, headers, requestId }) {
      const { userId } = await deps.verifier.verify(bearerToken(headers.authorization));
      const { eventId, couponId } = parseInput(issueRequest, body);
      let result: IssueResult;
      try {
        result = await deps.issueCoupon({ userId, eventId, couponId, requestId });
      } catch (error) {
        if (!(error instanceof CouponServiceUnavailableError)) throw error;
        throw new ServiceUnavailableError(
          "COUPON_SERVICE_UNAVAILABLE",
          "Service unavailable",
          "coupon details cannot be loaded right now; try again shortly",
        );
      }
      deps.outcomes.inc({ outcome: result.kind });
      if (result.kind !== "issued") throw toHttpError(result, couponId, eventId);
      return {
        status: 201,
        body: { issueId: result.issueId, couponId, eventId, userId, issuedAt: result.issuedAt.toISOString() },
      };
    },
  };
}
