import { describe, expect, it } from "vitest";
import { toCouponIssued } from "./outbox-entry.ts";

describe("toCouponIssued", () => {
  it("when the entry has every field, then it becomes a coupon.issued record", () => {
    const fields = [
      "couponId",
      "7",
      "eventId",
      "3",
      "userId",
      "42",
      "issuedAt",
      "1700000000123",
      "requestId",
      "r-1",
    ];
    expect(toCouponIssued("1700000000123-0", fields)).toEqual({
      record: {
        issueId: "1700000000123-0",
        couponId: 7,
        eventId: 3,
        userId: "42",
        issuedAt: "2023-11-14T22:13:20.123Z",
      },
      requestId: "r-1",
    });
  });

  it("when the request id is empty, then none is carried", () => {
    const fields = [
      "couponId",
      "7",
      "eventId",
      "3",
      "userId",
      "42",
      "issuedAt",
      "1700000000123",
      "requestId",
      "",
    ];
    expect(toCouponIssued("1-0", fields)?.requestId).toBeUndefined();
  });

  it("when a field is missing or malformed, then it is not a record", () => {
    expect(toCouponIssued("1-0", ["couponId", "7", "eventId", "3", "userId", "42"])).toBeUndefined();
    expect(
      toCouponIssued("1-0", ["couponId", "x", "eventId", "3", "userId", "42", "issuedAt", "1700000000123"]),
    ).toBeUndefined();
    expect(
      toCouponIssued("1-0", ["couponId", "7", "eventId", "3", "userId", "abc", "issuedAt", "1700000000123"]),
    ).toBeUndefined();
  });
});
