import { describe, expect, it } from "vitest";
import type { StoredCoupon } from "./model.ts";
import {
  couponChangeSchema,
  decideCouponChange,
  idString,
  newCouponSchema,
  newEventSchema,
} from "./rules.ts";

function fieldsOf(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }): string[] {
  return (result.error?.issues ?? []).map((issue) => issue.path.join(".")).sort();
}

const percentCoupon = {
  eventId: 1,
  discountType: "PERCENT",
  discountRate: 10,
  maxQuantity: 1000,
  validFrom: "2026-11-27T00:00:00Z",
  validUntil: "2026-12-31T23:59:59.999Z",
};

describe("newEventSchema", () => {
  it("when the window is valid, then dates in any offset become instants", () => {
    const event = newEventSchema.parse({
      name: " Black Friday ",
      startsAt: "2026-11-27T09:00:00+09:00",
      endsAt: "2026-11-28T00:00:00Z",
    });
    expect(event).toEqual({
      name: "Black Friday",
      startsAt: new Date("2026-11-27T00:00:00Z"),
      endsAt: new Date("2026-11-28T00:00:00Z"),
    });
  });

  it("when the event ends at or before its start, then endsAt is named", () => {
    const at = "2026-11-27T00:00:00Z";
    expect(fieldsOf(newEventSchema.safeParse({ name: "x", startsAt: at, endsAt: at }))).toEqual(["endsAt"]);
  });

  it("when the name is blank and a date has no time zone, then both are named", () => {
    const result = newEventSchema.safeParse({
      name: "  ",
      startsAt: "2026-11-27T00:00:00",
      endsAt: "2026-11-28T00:00:00Z",
    });
    expect(fieldsOf(result)).toEqual(["name", "startsAt"]);
  });
});

describe("newCouponSchema", () => {
  it("when a PERCENT coupon is valid, then the price is null", () => {
    expect(newCouponSchema.parse(percentCoupon)).toMatchObject({ discountRate: 10, discountPrice: null });
  });

  it("when an AMOUNT coupon is valid, then the rate is null", () => {
    const { discountRate: _, ...rest } = percentCoupon;
    expect(newCouponSchema.parse({ ...rest, discountType: "AMOUNT", discountPrice: 5000 })).toMatchObject({
      discountRate: null,
      discountPrice: 5000,
    });
  });

  it.each([
    [{ maxQuantity: 0 }, ["maxQuantity"]],
    [{ maxQuantity: 1.5 }, ["maxQuantity"]],
    [{ maxQuantity: "10" }, ["maxQuantity"]],
    [{ maxQuantity: 2 ** 31 }, ["maxQuantity"]],
    [{ discountRate: 0 }, ["discountRate"]],
    [{ discountRate: 101 }, ["discountRate"]],
    [{ discountRate: undefined }, ["discountRate"]],
    [{ discountRate: null }, ["discountRate"]],
    [{ discountPrice: 100 }, ["discountPrice"]],
    [{ discountType: "AMOUNT" }, ["discountPrice", "discountRate"]],
    [{ discountType: "AMOUNT", discountRate: null, discountPrice: 0 }, ["discountPrice"]],
    [{ discountType: "FREE" }, ["discountType"]],
    [{ eventId: "1" }, ["eventId"]],
    [{ eventId: 2 ** 53 }, ["eventId"]],
    [{ validUntil: "2026-11-27T00:00:00Z" }, ["validUntil"]],
    [{ validFrom: "0001-01-01T00:00:00Z" }, ["validFrom"]],
  ])("when %j, then %j is named", (change, fields) => {
    expect(fieldsOf(newCouponSchema.safeParse({ ...percentCoupon, ...change }))).toEqual(fields);
  });

  it("when several rules break at once, then every broken field is named in one answer", () => {
    const result = newCouponSchema.safeParse({
      ...percentCoupon,
      maxQuantity: -1,
      discountPrice: 100,
      validUntil: "2026-01-01T00:00:00Z",
    });
    expect(fieldsOf(result)).toEqual(["discountPrice", "maxQuantity", "validUntil"]);
  });
});

describe("couponChangeSchema", () => {
  it("when nothing is sent, then the body is refused as a whole", () => {
    expect(fieldsOf(couponChangeSchema.safeParse({}))).toEqual([""]);
  });

  it("when the stock is not a positive integer, then maxQuantity is named", () => {
    expect(fieldsOf(couponChangeSchema.safeParse({ maxQuantity: 0 }))).toEqual(["maxQuantity"]);
  });
});

describe("idString", () => {
  it.each(["1", "42", "9007199254740991"])("when %s, then it is an id", (value) => {
    expect(idString().parse(value)).toBe(Number(value));
  });

  it.each(["0", "-1", "01", "1.0", "1e3", "abc", "", "9007199254740992"])(
    "when %j, then it is refused",
    (value) => {
      expect(idString().safeParse(value).success).toBe(false);
    },
  );
});

describe("decideCouponChange", () => {
  const current: StoredCoupon = {
    id: 7,
    eventId: 1,
    discountType: "PERCENT",
    discountRate: 10,
    discountPrice: null,
    maxQuantity: 100,
    issuedQuantity: 30,
    termsVersion: 1,
    validFrom: new Date("2026-11-27T00:00:00Z"),
    validUntil: new Date("2026-12-31T00:00:00Z"),
    event: { startsAt: new Date("2026-11-27T00:00:00Z"), endsAt: new Date("2026-11-28T00:00:00Z") },
  };

  it("when only the stock changes, then the window is kept", () => {
    expect(decideCouponChange(current, { maxQuantity: 50 }, 40)).toEqual({
      ok: true,
      terms: { maxQuantity: 50, validFrom: current.validFrom, validUntil: current.validUntil },
    });
  });

  it("when the stock would drop below what Redis counts as issued, then it is refused naming that count", () => {
    const decision = decideCouponChange(current, { maxQuantity: 39 }, 40);
    expect(decision).toEqual({
      ok: false,
      reason: "STOCK_BELOW_ISSUED",
      violations: [{ field: "maxQuantity", message: "must be at least 40, the number already issued" }],
    });
  });

  it("when the stored issued quantity is above the live count, then the stored one is the floor", () => {
    expect(decideCouponChange(current, { maxQuantity: 29 }, 0)).toMatchObject({
      reason: "STOCK_BELOW_ISSUED",
    });
    expect(decideCouponChange(current, { maxQuantity: 30 }, 0)).toMatchObject({ ok: true });
  });

  it("when a new end falls before the stored start, then validUntil is named", () => {
    const decision = decideCouponChange(current, { validUntil: new Date("2026-11-01T00:00:00Z") }, 0);
    expect(decision).toMatchObject({ reason: "INVALID_WINDOW", violations: [{ field: "validUntil" }] });
  });

  it("when a new start falls after the stored end, then validFrom is named", () => {
    const decision = decideCouponChange(current, { validFrom: new Date("2027-01-01T00:00:00Z") }, 0);
    expect(decision).toMatchObject({ reason: "INVALID_WINDOW", violations: [{ field: "validFrom" }] });
  });
});
