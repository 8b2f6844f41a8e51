import { fireAll, mintTokens } from "@coupon/loadgen";
import { ownKafka } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { persistedUsers } from "./audit.ts";
import { openFlashSale, type System, startSystem } from "./system.ts";

const kafka = ownKafka("system-kafka-outage", 14000);

let system: System;

beforeAll(async () => {
  await kafka.start();
  system = await startSystem("kafka_outage", kafka.brokers);
}, 240_000);

afterAll(async () => {
  await system?.stop();
  await kafka.stop();
}, 120_000);

describe("the whole system while Kafka is down", () => {
  it("when Kafka stops during issuance and restarts, then every 201 becomes exactly one row", async () => {
    const { eventId, couponId } = await openFlashSale(system, 1_000);
    const tokens = await mintTokens({
      privateKeyPem: system.privateKeyPem,
      issuer: "coupon-user-service",
      audience: "coupon-platform",
      firstUserId: 50_000,
      count: 400,
      expiresInSec: 600,
    });
    const body = JSON.stringify({ eventId, couponId });
    const fire = (slice: string[]) =>
      fireAll({
        origin: system.services.issue.baseUrl,
        path: "/coupon-issues",
        concurrency: 50,
        requests: slice.map((token) => ({ token, body })),
      });

    const before = await fire(tokens.slice(0, 100));
    await kafka.stop();
    const during = await fire(tokens.slice(100, 400));
    await kafka.start();

    const answers = [...before.results, ...during.results];
    expect(answers.every((r) => r.status === 201)).toBe(true);
    const issued = answers.map((r) => String(r.body?.userId));
    const rows = await persistedUsers(system.database.url, couponId, 400);
    expect(rows).toHaveLength(400);
    expect(new Set(rows)).toEqual(new Set(issued));
  }, 240_000);
});
