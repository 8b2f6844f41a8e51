import { ownKafka } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { persistedUsers } from "./audit.ts";
import { claimAll, openFlashSale, type System, startSystem, userTokens } from "./system.ts";

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
    const sale = await openFlashSale(system, 1_000);
    const { couponId } = sale;
    const tokens = await userTokens(system, 50_000, 400);
    const fire = (slice: string[]) => claimAll(system, sale, slice, 50);

    const before = await fire(tokens.slice(0, 100));
    await kafka.stop();
    const during = await fire(tokens.slice(100, 400));
    await kafka.start();

    const answers = [...before, ...during];
    expect(answers.every((r) => r.status === 201)).toBe(true);
    const issued = answers.map((r) => String(r.body?.userId));
    const rows = await persistedUsers(system.database.url, couponId, 400);
    expect(rows).toHaveLength(400);
    expect(new Set(rows)).toEqual(new Set(issued));
  }, 240_000);
});
