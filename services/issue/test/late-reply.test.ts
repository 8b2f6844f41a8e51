// Redis runs an issuance, but its reply is held up (a proxy between the service and Redis stops
// passing what Redis sends) until the request has been answered: the client is told the issuance
// may have happened, and the acceptance is recorded for reconcile, which reports it.
import { couponKeys } from "@coupon/contracts";
import { TcpProxy, testEndpoints } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcile } from "../src/domain/reconciliation.ts";
import { type Harness, nextCouponId, openCoupon, startHarness } from "./harness.ts";

const redisUrl = new URL(testEndpoints().redisUrl);
const proxy = new TcpProxy({ host: redisUrl.hostname, port: Number(redisUrl.port) });

let h: Harness;

beforeAll(async () => {
  await proxy.open();
  const viaProxy = new URL(redisUrl);
  viaProxy.port = String(proxy.port);
  h = await startHarness("late-reply", { redisUrl: viaProxy.toString(), deadlineMs: 300, replyGraceMs: 100 });
}, 60_000);

afterAll(async () => {
  proxy.resume();
  await h?.close();
  await proxy.close();
}, 60_000);

describe("an acceptance whose reply came after the request was answered", () => {
  it("when Redis's reply is held past the deadline, then 503 ISSUANCE_UNCONFIRMED, and the acceptance is counted and listed for reconcile", async () => {
    const couponId = nextCouponId();
    await h.writeTerms(openCoupon(couponId, 1, 10));
    // The first issuance registers the coupon's outbox for the relay; the next ones send the script alone.
    expect((await h.post({ eventId: 1, couponId }, h.tokens.token({ sub: "76" }))).status).toBe(201);

    proxy.stall("replies");
    const answer = await h.post({ eventId: 1, couponId }, h.tokens.token({ sub: "77" }));
    proxy.resume();

    expect(answer.status).toBe(503);
    expect(answer.body.code).toBe("ISSUANCE_UNCONFIRMED");
    const keys = couponKeys(couponId);
    await expect.poll(() => h.redis.smembers(keys.unannounced), { timeout: 5_000 }).toEqual(["77"]);
    expect((await h.redis.smembers(keys.issued)).sort()).toEqual(["76", "77"]);
    expect(await h.unannounced()).toBe(1);
    const report = reconcile({
      couponId,
      stock: 10,
      acceptedUsers: await h.redis.smembers(keys.issued),
      inFlightUsers: ["76", "77"],
      persistedUsers: [],
      unannouncedUsers: await h.redis.smembers(keys.unannounced),
    });
    expect(report).toMatchObject({ unannounced: ["77"], missingInDatabase: [], consistent: false });

    const retry = await h.post({ eventId: 1, couponId }, h.tokens.token({ sub: "77" }));
    expect([retry.status, retry.body.code]).toEqual([409, "COUPON_ALREADY_ISSUED_BY_USER"]);
  });
});
