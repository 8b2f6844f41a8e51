import { type CouponView, couponKeys } from "@coupon/contracts";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cachedView } from "../src/adapters/redis-coupon-cache.ts";
import {
  openEventBody,
  percentCouponBody,
  startApp,
  startInfra,
  type TestApp,
  type TestInfra,
} from "./support.ts";

const CACHE_TTL_MS = 60_000;
const NOT_FOUND_TTL_MS = 30_000;

let infra: TestInfra;
let app: TestApp;

beforeAll(async () => {
  infra = await startInfra("coupon_cache");
  app = await startApp(infra, { cacheTtlMs: CACHE_TTL_MS, notFoundTtlMs: NOT_FOUND_TTL_MS });
});

afterAll(async () => {
  await app?.close();
  await infra?.close();
});

const asAdmin = () => ({ authorization: `Bearer ${infra.adminToken}` });

async function givenCoupon(overrides: Record<string, unknown> = {}): Promise<CouponView> {
  const event = await request(app.baseUrl).post("/events").set(asAdmin()).send(openEventBody());
  const res = await request(app.baseUrl)
    .post("/coupons")
    .set(asAdmin())
    .send(percentCouponBody(event.body.eventId, overrides));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const read = (couponId: number) => request(app.baseUrl).get(`/coupons/${couponId}`);

describe("look-aside reads", () => {
  it("when a coupon is read the first time, then the database answers and the Redis hash is filled with a TTL", async () => {
    const coupon = await givenCoupon();
    const key = couponKeys(coupon.couponId).meta;
    expect(await infra.redis.exists(key)).toBe(0);
    const readsBefore = app.databaseReads();

    const res = await read(coupon.couponId);

    expect(res.body).toEqual(coupon);
    expect(app.databaseReads() - readsBefore).toBe(1);
    expect(cachedView(await infra.redis.hgetall(key))).toEqual(coupon);
    const ttl = await infra.redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(CACHE_TTL_MS);
  });

  it("when a cached coupon is read again, then the database is not asked", async () => {
    const coupon = await givenCoupon();
    await read(coupon.couponId);
    const readsBefore = app.databaseReads();

    const answers = await Promise.all([read(coupon.couponId), read(coupon.couponId), read(coupon.couponId)]);

    for (const res of answers) expect(res.body).toEqual(coupon);
    expect(app.databaseReads()).toBe(readsBefore);
  });

  it("when the issue service has filled the hash, then that copy is served: Redis comes first", async () => {
    const coupon = await givenCoupon({ maxQuantity: 100 });
    const copy = { ...coupon, maxQuantity: 99 };
    await infra.redis.hset(couponKeys(coupon.couponId).meta, "view", JSON.stringify(copy));
    const readsBefore = app.databaseReads();

    const res = await read(coupon.couponId);

    expect(res.body).toEqual(copy);
    expect(app.databaseReads()).toBe(readsBefore);
  });

  it("when the hash holds junk, then it counts as a miss and is overwritten from the database", async () => {
    const coupon = await givenCoupon();
    const key = couponKeys(coupon.couponId).meta;
    await infra.redis.hset(key, { view: "{not json" });

    const res = await read(coupon.couponId);

    expect(res.body).toEqual(coupon);
    expect(cachedView(await infra.redis.hgetall(key))).toEqual(coupon);
  });

  it("when 200 requests for one coupon arrive on a cold cache, then the database is read exactly once", async () => {
    const coupon = await givenCoupon();
    await infra.redis.del(couponKeys(coupon.couponId).meta);
    const readsBefore = app.databaseReads();

    const answers = await Promise.all(Array.from({ length: 200 }, () => read(coupon.couponId)));

    expect(answers.map((res) => res.status)).toEqual(Array(200).fill(200));
    for (const res of answers) expect(res.body).toEqual(coupon);
    expect(app.databaseReads() - readsBefore).toBe(1);
  });
});

describe("write-around changes", () => {
  it("when an admin changes a cached coupon, then its cache entry is dropped and the next read sees the change", async () => {
    const coupon = await givenCoupon({ maxQuantity: 100 });
    const key = couponKeys(coupon.couponId).meta;
    await read(coupon.couponId);
    expect(await infra.redis.exists(key)).toBe(1);

    const change = await request(app.baseUrl)
      .patch(`/coupons/${coupon.couponId}`)
      .set(asAdmin())
      .send({ maxQuantity: 150, validUntil: "2027-01-31T00:00:00Z" });

    expect(change.status).toBe(200);
    expect(await infra.redis.exists(key)).toBe(0);
    const after = await read(coupon.couponId);
    expect(after.body).toEqual({
      ...coupon,
      maxQuantity: 150,
      validUntil: "2027-01-31T00:00:00.000Z",
      termsVersion: 2,
    });
    expect(cachedView(await infra.redis.hgetall(key))).toEqual(after.body);
  });

  it("when a refused change is sent, then the cache entry stays", async () => {
    const coupon = await givenCoupon({ maxQuantity: 5 });
    await infra.redis.sadd(couponKeys(coupon.couponId).issued, "1", "2", "3");
    await read(coupon.couponId);

    const change = await request(app.baseUrl)
      .patch(`/coupons/${coupon.couponId}`)
      .set(asAdmin())
      .send({ maxQuantity: 2 });

    expect(change.status).toBe(409);
    expect(cachedView(await infra.redis.hgetall(couponKeys(coupon.couponId).meta))).toEqual(coupon);
  });
});

describe("unknown coupons", () => {
  it("when an unknown id is read twice, then the second 404 comes from the short-lived negative entry", async () => {
    const unknown = 900_001;
    const readsBefore = app.databaseReads();

    const first = await read(unknown);
    const second = await read(unknown);

    expect([first.status, second.status]).toEqual([404, 404]);
    expect(second.body.code).toBe("COUPON_NOT_FOUND");
    expect(app.databaseReads() - readsBefore).toBe(1);
    const key = couponKeys(unknown).meta;
    // The contract's reader sees no view in a negative entry: the issue service asks this service.
    expect(cachedView(await infra.redis.hgetall(key))).toBeUndefined();
    const ttl = await infra.redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(NOT_FOUND_TTL_MS);
  });

  it("when a coupon is created under an id that was cached as unknown, then it is found at once", async () => {
    const latest = await givenCoupon();
    const nextId = latest.couponId + 1;
    expect((await read(nextId)).status).toBe(404);

    const created = await givenCoupon();

    expect(created.couponId).toBe(nextId);
    const res = await read(nextId);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created);
  });
});

describe("when Redis is unreachable", () => {
  it("then reads are answered from the database", async () => {
    const coupon = await givenCoupon();
    const broken = infra.connectRedis();
    broken.disconnect();
    const degraded = await startApp(infra, { redis: broken });
    try {
      const res = await request(degraded.baseUrl).get(`/coupons/${coupon.couponId}`);

      expect(res.status).toBe(200);
      expect(res.body).toEqual(coupon);
      expect(degraded.databaseReads()).toBe(1);
    } finally {
      await degraded.close();
    }
  });
});
