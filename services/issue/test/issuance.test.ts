import { couponKeys } from "@coupon/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, nextCouponId, openCoupon, startHarness } from "./harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await startHarness("issuance");
});
afterAll(() => h.close());

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

describe("POST /coupon-issues", () => {
  it("when 5,000 distinct users race for a stock of 100, then exactly 100 are issued, each once, and 100 records reach Kafka", async () => {
    const couponId = nextCouponId();
    await h.writeTerms(openCoupon(couponId, 1, 100));
    const users = Array.from({ length: 5_000 }, (_, i) => String(1_000_000 + i));
    const tokens = users.map((sub) => h.tokens.token({ sub }));
    h.startRelay();

    const results = await Promise.all(tokens.map((token) => h.post({ eventId: 1, couponId }, token)));

    const statuses = results.map((r) => r.status);
    expect(count(statuses, 201)).toBe(100);
    expect(count(statuses, 409)).toBe(4_900);
    const soldOut = results.filter((r) => r.status === 409);
    expect(soldOut.every((r) => r.body.code === "COUPON_ISSUE_QUANTITY_EXCEEDED")).toBe(true);
    const winners = results.filter((r) => r.status === 201).map((r) => r.body.userId as string);
    expect(new Set(winners).size).toBe(100);
    expect(await h.redis.scard(couponKeys(couponId).issued)).toBe(100);

    const records = await h.readTopic(100);
    expect(records).toHaveLength(100);
    expect(new Set(records.map((r) => r.userId))).toEqual(new Set(winners));
    const issueIds = results.filter((r) => r.status === 201).map((r) => r.body.issueId);
    expect(new Set(records.map((r) => r.issueId))).toEqual(new Set(issueIds));
    expect(records.every((r) => r.couponId === couponId && r.eventId === 1)).toBe(true);
  });

  it("when one user sends 50 requests at once, then exactly one coupon is issued to them", async () => {
    const couponId = nextCouponId();
    await h.writeTerms(openCoupon(couponId, 1, 10));
    const token = h.tokens.token({ sub: "77" });

    const results = await Promise.all(
      Array.from({ length: 50 }, () => h.post({ eventId: 1, couponId }, token)),
    );

    expect(
      count(
        results.map((r) => r.status),
        201,
      ),
    ).toBe(1);
    const duplicates = results.filter((r) => r.status === 409);
    expect(duplicates).toHaveLength(49);
    expect(duplicates.every((r) => r.body.code === "COUPON_ALREADY_ISSUED_BY_USER")).toBe(true);
    expect(await h.redis.smembers(couponKeys(couponId).issued)).toEqual(["77"]);
  });

  it("when a holder asks again after the coupon sold out, then they are told they hold it", async () => {
    const couponId = nextCouponId();
    await h.writeTerms(openCoupon(couponId, 1, 1));
    const holder = h.tokens.token({ sub: "5" });
    expect((await h.post({ eventId: 1, couponId }, holder)).status).toBe(201);
    expect((await h.post({ eventId: 1, couponId }, h.tokens.token({ sub: "6" }))).body.code).toBe(
      "COUPON_ISSUE_QUANTITY_EXCEEDED",
    );
    expect((await h.post({ eventId: 1, couponId }, holder)).body.code).toBe("COUPON_ALREADY_ISSUED_BY_USER");
  });

  it("when the event has not opened or has closed, then 403 with EVENT_NOT_OPEN or EVENT_CLOSED", async () => {
    const token = h.tokens.token({ sub: "9" });
    const early = nextCouponId();
    await h.writeTerms({
      ...openCoupon(early, 2, 5),
      issueStartsAt: new Date(Date.now() + 60_000).toISOString(),
    });
    const late = nextCouponId();
    await h.writeTerms({ ...openCoupon(late, 2, 5), issueEndsAt: new Date(Date.now() - 1).toISOString() });

    const before = await h.post({ eventId: 2, couponId: early }, token);
    const after = await h.post({ eventId: 2, couponId: late }, token);

    expect([before.status, before.body.code]).toEqual([403, "EVENT_NOT_OPEN"]);
    expect([after.status, after.body.code]).toEqual([403, "EVENT_CLOSED"]);
    expect(await h.redis.scard(couponKeys(early).issued)).toBe(0);
    expect(await h.redis.exists(couponKeys(late).outbox)).toBe(0);
  });

  it("when the coupon is unknown or belongs to another event, then 404 COUPON_NOT_FOUND", async () => {
    const token = h.tokens.token({ sub: "9" });
    const couponId = nextCouponId();
    await h.writeTerms(openCoupon(couponId, 3, 5));

    const otherEvent = await h.post({ eventId: 4, couponId }, token);
    const unknown = await h.post({ eventId: 3, couponId: nextCouponId() }, token);

    expect([otherEvent.status, otherEvent.body.code]).toEqual([404, "COUPON_NOT_FOUND"]);
    expect(otherEvent.body.detail).toContain("does not belong to event 4");
    expect([unknown.status, unknown.body.code]).toEqual([404, "COUPON_NOT_FOUND"]);
  });

  it("when Redis has no terms for the coupon yet, then many concurrent requests load them from its service once", async () => {
    const couponId = nextCouponId();
    h.publishCoupon(openCoupon(couponId, 5, 1_000));
    const before = h.couponServiceRequests();

    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        h.post({ eventId: 5, couponId }, h.tokens.token({ sub: String(500 + i) })),
      ),
    );

    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(h.couponServiceRequests() - before).toBe(1);
    expect(await h.redis.hget(couponKeys(couponId).terms, "stock")).toBe("1000");
  });

  it("when the coupon service is gone after the terms were loaded, then issuance goes on: the terms never expire", async () => {
    const couponId = nextCouponId();
    h.publishCoupon(openCoupon(couponId, 5, 100));
    expect((await h.post({ eventId: 5, couponId }, h.tokens.token({ sub: "600" }))).status).toBe(201);
    h.unpublishCoupon(couponId);
    h.failCouponService(true);
    try {
      const before = h.couponServiceRequests();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          h.post({ eventId: 5, couponId }, h.tokens.token({ sub: String(601 + i) })),
        ),
      );
      expect(results.every((r) => r.status === 201)).toBe(true);
      expect(h.couponServiceRequests()).toBe(before);
      expect(await h.redis.pttl(couponKeys(couponId).terms)).toBe(-1);
      // A coupon whose terms are not in Redis cannot be checked: 503, not a guess.
      const unknown = await h.post({ eventId: 5, couponId: nextCouponId() }, h.tokens.token({ sub: "600" }));
      expect([unknown.status, unknown.body.code]).toEqual([503, "COUPON_SERVICE_UNAVAILABLE"]);
    } finally {
      h.failCouponService(false);
    }
  });

  it("when the terms change in Redis, then the very next request is decided by them", async () => {
    const couponId = nextCouponId();
    await h.writeTerms(openCoupon(couponId, 1, 10));
    expect((await h.post({ eventId: 1, couponId }, h.tokens.token({ sub: "700" }))).status).toBe(201);
    expect((await h.post({ eventId: 1, couponId }, h.tokens.token({ sub: "701" }))).status).toBe(201);

    await h.writeTerms({ ...openCoupon(couponId, 1, 2), termsVersion: 2 });
    const third = await h.post({ eventId: 1, couponId }, h.tokens.token({ sub: "702" }));
    expect([third.status, third.body.code]).toEqual([409, "COUPON_ISSUE_QUANTITY_EXCEEDED"]);

    // Older terms (a load that raced the change) do not undo it.
    await h.writeTerms(openCoupon(couponId, 1, 10));
    expect((await h.post({ eventId: 1, couponId }, h.tokens.token({ sub: "703" }))).status).toBe(409);
  });

  it("when the coupon's validity has ended, then 403 COUPON_EXPIRED and nothing is issued", async () => {
    const couponId = nextCouponId();
    await h.writeTerms({
      ...openCoupon(couponId, 1, 10),
      validFrom: "2020-01-01T00:00:00.000Z",
      validUntil: "2020-12-31T00:00:00.000Z",
    });
    const res = await h.post({ eventId: 1, couponId }, h.tokens.token({ sub: "800" }));
    expect([res.status, res.body.code]).toEqual([403, "COUPON_EXPIRED"]);
    expect(res.body.detail).toContain("2020-12-31T00:00:00.000Z");
    expect(await h.redis.scard(couponKeys(couponId).issued)).toBe(0);
  });

  it("when the body is malformed or incomplete, then 400 naming the field; without a token, 401", async () => {
    const token = h.tokens.token({ sub: "9" });
    const broken = await h.post('{"eventId": 1,', token);
    expect([broken.status, broken.body.code]).toEqual([400, "MALFORMED_JSON"]);

    const missing = await h.post({ eventId: 1 }, token);
    expect([missing.status, missing.body.code]).toEqual([400, "VALIDATION_FAILED"]);
    expect((missing.body.errors as { field: string }[]).map((e) => e.field)).toEqual(["couponId"]);

    const wrongTypes = await h.post({ eventId: -1, couponId: "abc" }, token);
    expect((wrongTypes.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual([
      "couponId",
      "eventId",
    ]);

    const anonymous = await h.post({ eventId: 1, couponId: 1 });
    expect([anonymous.status, anonymous.body.code]).toEqual([401, "NOT_TOKEN"]);
  });

  it("when Redis has forgotten the script (NOSCRIPT), then it is reloaded and the issuance works", async () => {
    const couponId = nextCouponId();
    await h.writeTerms(openCoupon(couponId, 1, 5));
    await h.redis.script("FLUSH");
    expect((await h.post({ eventId: 1, couponId }, h.tokens.token({ sub: "11" }))).status).toBe(201);
  });
});
