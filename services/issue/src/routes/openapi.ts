import { bearerAuth } from "@coupon/auth";
import { couponIssuedSchema } from "@coupon/contracts";
import type { ApiSpec } from "@coupon/http";
import { issueRequest } from "./coupon-issues.ts";

const retryAfter = { "Retry-After": "seconds to wait before retrying" };

export const issueApi: ApiSpec = {
  title: "Issue service",
  version: "1.0.0",
  description: "First-come-first-served issuance of coupons.",
  operations: [
    {
      method: "post",
      path: "/coupon-issues",
      operationId: "issueCoupon",
      summary: "Claim a coupon for the token's user",
      description:
        "Decided in one Redis round trip: the event's window and the coupon's validity, then duplicate, then " +
        "stock. The user is the token's subject only. Ids may be sent as numbers or decimal strings. On 503 " +
        "send it again: ISSUANCE_UNCONFIRMED may have issued, and the next answer says so (409 " +
        "COUPON_ALREADY_ISSUED_BY_USER); the others issued nothing.",
      auth: bearerAuth({ remoteKeys: true }),
      body: issueRequest,
      responses: {
        201: {
          description: "issued; the same record is then persisted asynchronously",
          body: couponIssuedSchema,
        },
      },
      problems: {
        403: { codes: ["EVENT_NOT_OPEN", "EVENT_CLOSED", "COUPON_EXPIRED"] },
        404: { codes: ["COUPON_NOT_FOUND"] },
        409: { codes: ["COUPON_ALREADY_ISSUED_BY_USER", "COUPON_ISSUE_QUANTITY_EXCEEDED"] },
        503: {
          codes: ["ISSUANCE_UNAVAILABLE", "ISSUANCE_UNCONFIRMED", "COUPON_SERVICE_UNAVAILABLE"],
          headers: retryAfter,
        },
      },
    },
  ],
};
