// The whole system while its database is away for 90 s (a proxy between the services and MariaDB
// refuses connections): issuing needs only Redis and goes on, the coupon service answers 503, and
// once the database is back every 201 becomes exactly one row.

import { parseDatabaseUrl } from "@coupon/db";

import { TcpProxy, testEndpoints } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { persistedUsers } from "./audit.ts";
import { claimAll, openFlashSale, type System, startSystem, userTokens } from "./system.ts";

const OUTAGE_MS = 90_000;
const proxy = new TcpProxy(parseDatabaseUrl(testEndpoints().databaseServerUrl));

let system: System;

beforeAll(async () => {
  await proxy.open();
  system = await startSystem("database_outage", testEndpoints().kafkaBrokers, {
    serviceDatabaseUrl: (url) => {
      const viaProxy = new URL(url);
      viaProxy.port = String(proxy.port);
      return viaProxy.toString();
    },
  });
}, 240_000);

afterAll(async () => {
  await proxy.open().catch(() => {});
  await system?.stop();
  await proxy.close();
}, 120_000);

describe("the whole system while the database is down for 90 s", () => {
  it("when MariaDB is unreachable for 90 s during a sale, then every request is still answered 201, and every 201 becomes exactly one row once it is back", async () => {
    const sale = await openFlashSale(system, 5_000);
    const { eventId, couponId } = sale;
    const tokens = await userTokens(system, 70_000, 1_100);
    const fire = (slice: string[]) => claimAll(system, sale, slice, 20);
    const answers = await fire(tokens.slice(0, 100));

    await proxy.close();
    const cutAt = Date.now();
    // Through the whole outage, a wave of requests every 10 s (and the coupon service, which needs
    // the database, says so).
    for (let wave = 0; wave < 10; wave++) {
      answers.push(...(await fire(tokens.slice(100 + wave * 100, 200 + wave * 100))));
      await new Promise((settle) =>
        setTimeout(settle, Math.max(0, cutAt + (wave + 1) * (OUTAGE_MS / 10) - Date.now())),
      );
    }
    const couponRead = await fetch(`${system.services.coupon.baseUrl}/coupons?eventId=${eventId}`);
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(OUTAGE_MS);
    await proxy.open();

    expect(answers).toHaveLength(1_100);
    expect(answers.filter((a) => a.status !== 201).map((a) => a.code)).toEqual([]);
    expect(couponRead.status).toBe(503);
    expect(((await couponRead.json()) as { code: string }).code).toBe("DATABASE_UNAVAILABLE");
    const issued = answers.map((a) => String(a.body?.userId));
    const rows = await persistedUsers(system.database.url, couponId, 1_100);
    expect(rows).toHaveLength(1_100);
    expect(new Set(rows)).toEqual(new Set(issued));
  }, 300_000);
});
