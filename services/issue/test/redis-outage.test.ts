import { couponKeys } from "@coupon/contracts";
import { ownRedis } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, nextCouponId, openCoupon, startHarness } from "./harness.ts";

const redis = ownRedis(31379);
// Far above the service's own bound (deadline 300 ms + grace 200 ms): the old client answered 500
// after 2 to 12 s, with ioredis's reconnect attempts.
const BOUND_MS = 2_000;

let h: Harness;

beforeAll(async () => {
  await redis.start();
  h = await startHarness("redis-outage", { redisUrl: redis.url, deadlineMs: 300, replyGraceMs: 200 });
}, 60_000);

afterAll(async () => {
  redis.resume();
  await h?.close();
  await redis.kill();
}, 60_000);

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

const claims = (couponId: number, from: number, n: number) =>
  Promise.all(
    Array.from({ length: n }, (_, i) =>
      h.post({ eventId: 1, couponId }, h.tokens.token({ sub: String(from + i) })),
    ),
  );

describe("issuance while Redis is unreachable", () => {
  it("when Redis hangs with requests in flight, then each is answered 503 within the bound, and Redis, back, accepts none of them", async () => {
    const couponId = nextCouponId();
    await h.writeTerms(openCoupon(couponId, 1, 1_000));
    expect((await claims(couponId, 100, 5)).every((r) => r.status === 201)).toBe(true);

    redis.pause();
    const { result, ms } = await timed(() => claims(couponId, 1_000, 100));
    // The requests were written to the open connection; Redis runs them only now, past their deadline.
    redis.resume();

    expect(ms).toBeLessThan(BOUND_MS);
    // Sent, unanswered: the client is told it may have been issued, and Redis then issued none.
    expect(result.every((r) => r.status === 503 && r.body.code === "ISSUANCE_UNCONFIRMED")).toBe(true);
    await expect.poll(() => h.redis.ping(), { timeout: 5_000 }).toBe("PONG");
    expect(await h.redis.scard(couponKeys(couponId).issued)).toBe(5);
    expect(await h.redis.xlen(couponKeys(couponId).outbox)).toBe(5);
    expect(await h.unannounced()).toBe(0);
  });

  it("when Redis is killed, then requests get 503 with Retry-After at once, and issuance resumes when it is back", async () => {
    const couponId = nextCouponId();
    await h.writeTerms(openCoupon(couponId, 1, 1_000));
    expect((await claims(couponId, 2_000, 5)).every((r) => r.status === 201)).toBe(true);

    await redis.kill();
    const { result, ms } = await timed(() => claims(couponId, 3_000, 50));
    expect(ms).toBeLessThan(BOUND_MS);
    expect(
      result.every(
        (r) =>
          r.status === 503 && ["ISSUANCE_UNAVAILABLE", "ISSUANCE_UNCONFIRMED"].includes(String(r.body.code)),
      ),
    ).toBe(true);
    const one = await fetch(`${h.baseUrl}/coupon-issues`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${h.tokens.token({ sub: "9" })}`,
      },
      body: JSON.stringify({ eventId: 1, couponId }),
    });
    expect([one.status, one.headers.get("retry-after")]).toEqual([503, "1"]);

    // A new, empty Redis: the terms are loaded again from the coupon service.
    await redis.start();
    h.publishCoupon(openCoupon(couponId, 1, 1_000));
    await expect
      .poll(async () => (await h.post({ eventId: 1, couponId }, h.tokens.token({ sub: "4000" }))).status, {
        timeout: 15_000,
        interval: 200,
      })
      .toBe(201);
    expect(await h.redis.smembers(couponKeys(couponId).issued)).toEqual(["4000"]);
  }, 30_000);
});
