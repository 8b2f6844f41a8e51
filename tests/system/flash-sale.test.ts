import { fireAll } from "@coupon/loadgen";
import { testEndpoints } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { persistedUsers } from "./audit.ts";
import { openFlashSale, type System, startSystem, userTokens } from "./system.ts";

let system: System;

beforeAll(async () => {
  system = await startSystem("flash_sale", testEndpoints().kafkaBrokers);
}, 120_000);
afterAll(() => system?.stop(), 60_000);

describe("the whole system", () => {
  it("when 5,000 distinct users race for a stock of 100, then 100 are issued, 4,900 sold out, and exactly those 100 are persisted", async () => {
    const { eventId, couponId } = await openFlashSale(system, 100);
    const tokens = await userTokens(system, 10_000, 5_000);
    const body = JSON.stringify({ eventId, couponId });

    const { results } = await fireAll({
      origin: system.services.issue.baseUrl,
      path: "/coupon-issues",
      concurrency: 200,
      requests: tokens.map((token) => ({ token, body })),
    });

    const issued = results.filter((r) => r.status === 201).map((r) => String(r.body?.userId));
    expect(issued).toHaveLength(100);
    expect(new Set(issued).size).toBe(100);
    expect(
      results.filter((r) => r.status === 409 && r.code === "COUPON_ISSUE_QUANTITY_EXCEEDED"),
    ).toHaveLength(4_900);

    const rows = await persistedUsers(system.database.url, couponId, 100);
    expect(rows).toHaveLength(100);
    expect(new Set(rows)).toEqual(new Set(issued));

    const stats = await system.call<{ issued: number; persisted: number; remaining: number }>(
      "coupon",
      "GET",
      `/coupons/${couponId}/stats`,
    );
    expect(stats).toMatchObject({ issued: 100, persisted: 100, remaining: 0 });
  });

  it("when one user sends 50 requests at once, then they get one coupon and one row", async () => {
    const { eventId, couponId } = await openFlashSale(system, 10);
    const [token] = await userTokens(system, 90_000, 1);
    const body = JSON.stringify({ eventId, couponId });

    const { results } = await fireAll({
      origin: system.services.issue.baseUrl,
      path: "/coupon-issues",
      concurrency: 50,
      requests: Array.from({ length: 50 }, () => ({ token: token as string, body })),
    });

    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.code === "COUPON_ALREADY_ISSUED_BY_USER")).toHaveLength(49);
    expect(await persistedUsers(system.database.url, couponId, 1)).toEqual(["90000"]);
  });

  it("when an admin lowers the stock mid-race, then no more than the new stock is ever issued, and the database agrees", async () => {
    const { eventId, couponId } = await openFlashSale(system, 1_000);
    const tokens = await userTokens(system, 200_000, 3_000);
    const body = JSON.stringify({ eventId, couponId });
    const fire = (from: number, to: number, concurrency: number) =>
      fireAll({
        origin: system.services.issue.baseUrl,
        path: "/coupon-issues",
        concurrency,
        requests: tokens.slice(from, to).map((token) => ({ token, body })),
      });
    const first = await fire(0, 300, 50);
    expect(first.results.every((r) => r.status === 201)).toBe(true);

    const rest = fire(300, 3_000, 10);
    const admin = await system.adminToken();
    const lowered = await system.call<{ maxQuantity: number }>(
      "coupon",
      "PATCH",
      `/coupons/${couponId}`,
      { maxQuantity: 500 },
      admin,
    );
    const { results } = await rest;

    expect(lowered.maxQuantity).toBe(500);
    const issued = [...first.results, ...results]
      .filter((r) => r.status === 201)
      .map((r) => String(r.body?.userId));
    expect(issued).toHaveLength(500);
    expect(
      results.filter((r) => r.status !== 201).every((r) => r.code === "COUPON_ISSUE_QUANTITY_EXCEEDED"),
    ).toBe(true);
    const rows = await persistedUsers(system.database.url, couponId, 500);
    expect(new Set(rows)).toEqual(new Set(issued));
    expect(rows).toHaveLength(500);
    // The same change again is accepted (the stock equals what is issued); one lower is refused.
    await system.call("coupon", "PATCH", `/coupons/${couponId}`, { maxQuantity: 500 }, admin);
    const below = await fetch(`${system.services.coupon.baseUrl}/coupons/${couponId}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
      body: JSON.stringify({ maxQuantity: 499 }),
    });
    expect([below.status, ((await below.json()) as { code: string }).code]).toEqual([
      409,
      "COUPON_STOCK_BELOW_ISSUED",
    ]);
  });
});
