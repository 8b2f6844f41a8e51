import { describe, expect, it } from "vitest";
import { reconcile } from "./reconciliation.ts";

describe("reconcile", () => {
  it("when every accepted user has a row, then the coupon is consistent", () => {
    const report = reconcile({
      couponId: 1,
      stock: 3,
      acceptedUsers: ["1", "2", "3"],
      inFlightUsers: [],
      persistedUsers: ["3", "2", "1"],
      unannouncedUsers: [],
    });
    expect(report).toMatchObject({ accepted: 3, persisted: 3, consistent: true, missingInDatabase: [] });
  });

  it("when accepted users are still in the outbox, then they are in flight, not missing", () => {
    const report = reconcile({
      couponId: 1,
      stock: 3,
      acceptedUsers: ["1", "2", "3"],
      inFlightUsers: ["3"],
      persistedUsers: ["1"],
      unannouncedUsers: [],
    });
    expect(report.inFlight).toBe(1);
    expect(report.missingInDatabase).toEqual(["2"]);
    expect(report.consistent).toBe(false);
  });

  it("when a row has no acceptance or the stock is exceeded, then both are reported", () => {
    const report = reconcile({
      couponId: 1,
      stock: 1,
      acceptedUsers: ["1", "2"],
      inFlightUsers: [],
      persistedUsers: ["1", "2", "9"],
      unannouncedUsers: [],
    });
    expect(report.unknownToRedis).toEqual(["9"]);
    expect(report.overIssued).toBe(2);
    expect(report.consistent).toBe(false);
  });

  it("when Redis accepted users whose requests were answered 503, then they are reported, though every store agrees", () => {
    const report = reconcile({
      couponId: 1,
      stock: 3,
      acceptedUsers: ["1", "2"],
      inFlightUsers: [],
      persistedUsers: ["1", "2"],
      unannouncedUsers: ["2", "2", "7"],
    });
    expect(report.unannounced).toEqual(["2"]);
    expect(report.missingInDatabase).toEqual([]);
    expect(report.consistent).toBe(false);
  });
});
