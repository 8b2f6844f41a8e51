import { fireAll, mintTokens } from "@coupon/loadgen";
import { testEndpoints } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { persistedUsers } from "./audit.ts";
import { openFlashSale, type System, startSystem } from "./system.ts";

let system: System;

beforeAll(async () => {
  system = await startSystem("flash_sale", testEndpoints().kafkaBrokers);
}, 120_000);
afterAll(() => system?.stop(), 60_000);

const tokensFor = (firstUserId: number, count: number) =>
  mintTokens({
    privateKeyPem: system.privateKeyPem,
    issuer: "coupon-user-service",
    audience: "coupon-platform",
    firstUserId,
    count,
    expiresInSec: 600,
  });

describe("the whole system", () => {
  it("when 5,000 distinct users race for a stock of 100, then 100 are issued, 4,900 sold out, and exactly those 100 are persisted", async () => {
    const { eventId, couponId } = await openFlashSale(system, 100);
    const tokens = await tokensFor(10_000, 5_000);
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
    const [token] = await tokensFor(90_000, 1);
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
});
