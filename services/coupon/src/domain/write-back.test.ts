import { describe, expect, it } from "vitest";
import { planWriteBack } from "./write-back.ts";

describe("planWriteBack", () => {
  const candidate = (couponId: number, issuedQuantity: number, maxQuantity = 100) => ({
    couponId,
    maxQuantity,
    issuedQuantity,
  });

  it("when Redis counts more than is stored, then the count is written", () => {
    expect(planWriteBack([candidate(1, 10)], [25])).toEqual([{ couponId: 1, issued: 25 }]);
  });

  it("when Redis counts the same or fewer (a lost set), then nothing is written: the column never decreases", () => {
    expect(planWriteBack([candidate(1, 10), candidate(2, 10)], [10, 0])).toEqual([]);
  });

  it("when Redis counts more than the stock, then the stock is written", () => {
    expect(planWriteBack([candidate(1, 10, 50)], [60])).toEqual([{ couponId: 1, issued: 50 }]);
  });

  it("when several coupons are due, then each gets its own count", () => {
    expect(planWriteBack([candidate(1, 0), candidate(2, 5), candidate(3, 7)], [3, 5, 9])).toEqual([
      { couponId: 1, issued: 3 },
      { couponId: 3, issued: 9 },
    ]);
  });
});
