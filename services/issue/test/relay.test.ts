import { couponKeys } from "@coupon/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, nextCouponId, openCoupon, startHarness } from "./harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await startHarness("relay");
});
afterAll(() => h.close());

describe("outbox relay", () => {
  it("when a relay dies holding unacknowledged entries, then another relay claims and publishes them", async () => {
    const couponId = nextCouponId();
    await h.cacheCoupon(openCoupon(couponId, 1, 100));
    let attempts = 0;
    const dying = h.startRelay({
      consumer: "dying",
      publisher: {
        publish: async () => {
          attempts++;
          throw new Error("broker unreachable");
        },
      },
    });
    const accepted = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.post({ eventId: 1, couponId }, h.tokens.token({ sub: String(300 + i) })),
      ),
    );
    expect(accepted.every((r) => r.status === 201)).toBe(true);
    await expect.poll(() => attempts, { timeout: 10_000 }).toBeGreaterThan(0);
    await dying.stop();
    const pending = (await h.redis.xpending(couponKeys(couponId).outbox, "outbox-relay")) as [
      number,
      ...unknown[],
    ];
    expect(pending[0]).toBe(20);

    h.startRelay({ consumer: "rescuer", claimIdleMs: 100 });

    const records = await h.readTopic(20);
    expect(new Set(records.map((r) => r.userId)).size).toBe(20);
    await expect.poll(() => h.redis.xlen(couponKeys(couponId).outbox), { timeout: 10_000 }).toBe(0);
  });
});
