import { describe, expect, it } from "vitest";
import { classifyRecord } from "./record.ts";

const issuance = {
  issueId: "1767225600000-0",
  couponId: 42,
  eventId: 7,
  userId: "1001",
  issuedAt: "2026-01-01T00:00:00.000Z",
};
const record = (value: unknown, key: string | undefined = "42") => ({
  key,
  value: typeof value === "string" ? value : JSON.stringify(value),
});

describe("classifyRecord", () => {
  it("when the value is a CouponIssued keyed by its coupon id, then it is valid", () => {
    expect(classifyRecord(record(issuance))).toEqual({ ok: true, issuance });
  });

  it.each([
    ["no value", { key: "42", value: undefined }, /no value/],
    ["an empty value", { key: "42", value: "" }, /no value/],
    ["a value that is not JSON", record("{not json"), /not JSON/],
    ["JSON that is not an object", record("[1,2]"), /not a CouponIssued/],
    ["a missing field", record({ ...issuance, userId: undefined }), /userId/],
    ["a user id that is not a decimal id", record({ ...issuance, userId: "01" }), /userId/],
    ["a date that is not ISO", record({ ...issuance, issuedAt: "yesterday" }), /issuedAt/],
    ["a key that is another coupon", record(issuance, "43"), /key "43", expected the coupon id "42"/],
    ["no key", { key: undefined, value: JSON.stringify(issuance) }, /no key/],
    [
      "a user id above BIGINT",
      record({ ...issuance, userId: "9223372036854775808" }),
      /userId: expected a positive decimal user id within BIGINT/,
    ],
    ["a date DATETIME cannot hold", record({ ...issuance, issuedAt: "0999-12-31T23:59:59Z" }), /year 1000/],
  ])("when the record has %s, then it is poison with a reason", (_, raw, reason) => {
    const result = classifyRecord(raw);

    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.reason).toMatch(reason);
  });

  it("when the user id is exactly BIGINT's maximum, then it is valid", () => {
    const max = { ...issuance, userId: "9223372036854775807" };

    expect(classifyRecord(record(max))).toEqual({ ok: true, issuance: max });
  });
});
