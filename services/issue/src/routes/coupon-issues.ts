import { bearerToken, type JwtVerifier } from "@coupon/auth";
import { type JsonRoute, parseInput } from "@coupon/http";
import { AppError, NotFoundError, ServiceUnavailableError } from "@coupon/problems";
import type { Counter } from "prom-client";
import { z } from "zod";
import {
  DependencyUnavailableError,
  IssuanceUnconfirmedError,
  type IssueCoupon,
  type IssueResult,
} from "../domain/issue-coupon.ts";

const id = z.union([
  z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, "expected a positive integer")
    .transform(Number),
]);

export const issueRequest = z.object({ eventId: id, couponId: id });

function conflict(code: string, detail: string) {
  return new AppError({ status: 409, code, title: "Conflict", detail });
}

function forbidden(code: string, detail: string) {
  return new AppError({ status: 403, code, title: "Forbidden", detail });
}

const iso = (ms: number) => new Date(ms).toISOString();

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
      return forbidden("EVENT_NOT_OPEN", `event ${eventId} has not opened yet (${iso(result.startsAtMs)})`);
    case "closed":
      return forbidden("EVENT_CLOSED", `event ${eventId} has ended (${iso(result.endsAtMs)})`);
    case "expired":
      return forbidden("COUPON_EXPIRED", `coupon ${couponId} was valid until ${iso(result.validUntilMs)}`);
  }
}

const UNAVAILABLE: Record<DependencyUnavailableError["dependency"], [code: string, detail: string]> = {
  redis: [
    "ISSUANCE_UNAVAILABLE",
    "issuance is unavailable for a moment; nothing was issued, try again shortly",
  ],
  "coupon-service": [
    "COUPON_SERVICE_UNAVAILABLE",
    "coupon details cannot be loaded right now; nothing was issued, try again shortly",
  ],
};

const UNCONFIRMED =
  "your coupon may have been issued but could not be confirmed; send the request again: " +
  "409 COUPON_ALREADY_ISSUED_BY_USER means you hold it";

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
        if (error instanceof IssuanceUnconfirmedError) {
          deps.outcomes.inc({ outcome: "unconfirmed" });
          throw new ServiceUnavailableError("ISSUANCE_UNCONFIRMED", "Service unavailable", UNCONFIRMED);
        }
        if (!(error instanceof DependencyUnavailableError)) throw error;
        deps.outcomes.inc({ outcome: "unavailable" });
        const [code, detail] = UNAVAILABLE[error.dependency];
        throw new ServiceUnavailableError(code, "Service unavailable", detail);
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
