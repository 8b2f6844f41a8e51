import { couponKeys } from "@coupon/contracts";
import { ownKafka } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, nextCouponId, openCoupon, startHarness } from "./harness.ts";

const kafka = ownKafka("issue-kafka-outage", 13000);

let h: Harness;

beforeAll(async () => {
  await kafka.start();
  h = await startHarness("kafka-outage", { kafkaBrokers: kafka.brokers });
}, 180_000);

afterAll(async () => {
  await h?.close();
  await kafka.stop();
}, 120_000);

describe("issuance while Kafka is down", () => {
  it("when Kafka stops during issuance and comes back, then every 201 reaches Kafka and the outbox drains", async () => {
    const couponId = nextCouponId();
    await h.writeTerms(openCoupon(couponId, 1, 1_000));
    const issue = (from: number, n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          h.post({ eventId: 1, couponId }, h.tokens.token({ sub: String(from + i) })),
        ),
      );
    h.startRelay();
    const beforeOutage = await issue(1_000, 30);

    await kafka.stop();
    const duringOutage = await issue(2_000, 70);
    expect([...beforeOutage, ...duringOutage].every((r) => r.status === 201)).toBe(true);
    expect(await h.redis.xlen(couponKeys(couponId).outbox)).toBeGreaterThan(0);
    await kafka.start();

    const records = await h.readTopic(100, 90_000);
    const published = new Set(records.map((r) => r.userId));
    const accepted = [...beforeOutage, ...duringOutage].map((r) => r.body.userId);
    expect(published).toEqual(new Set(accepted));
    await expect.poll(() => h.redis.xlen(couponKeys(couponId).outbox), { timeout: 30_000 }).toBe(0);
  }, 240_000);
});
