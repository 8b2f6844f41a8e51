import { couponKeys, OUTBOX_REGISTRY_KEY } from "@coupon/contracts";
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
    await h.writeTerms(openCoupon(couponId, 1, 100));
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

    const rescuer = h.startRelay({ consumer: "rescuer", claimIdleMs: 100 });

    const records = await h.readTopic(20);
    expect(new Set(records.map((r) => r.userId)).size).toBe(20);
    await expect.poll(() => h.redis.xlen(couponKeys(couponId).outbox), { timeout: 10_000 }).toBe(0);
    // Its 100 ms claim interval would otherwise take over entries the next tests hold on purpose.
    await rescuer.stop();
  });
});

describe("the outbox registry", () => {
  const registered = (couponId: number) => h.redis.sismember(OUTBOX_REGISTRY_KEY, String(couponId));

  it("when a coupon's window has closed, then the relay publishes what its stream holds and only then stops reading it; terms that reopen it bring it back", async () => {
    const couponId = nextCouponId();
    const open = openCoupon(couponId, 1, 100);
    await h.writeTerms(open);
    const issue = (users: number[]) =>
      Promise.all(users.map((u) => h.post({ eventId: 1, couponId }, h.tokens.token({ sub: String(u) }))));
    expect((await issue([700, 701, 702])).map((r) => r.status)).toEqual([201, 201, 201]);
    await h.writeTerms({ ...open, termsVersion: 2, issueEndsAt: new Date(Date.now() - 1_000).toISOString() });
    expect(await registered(couponId)).toBe(1);
    let attempts = 0;
    const failing = h.startRelay({
      consumer: "failing",
      claimIdleMs: 200,
      retireAfterMs: 0,
      publisher: {
        publish: async () => {
          attempts++;
          throw new Error("broker unreachable");
        },
      },
    });
    await expect.poll(() => attempts, { timeout: 10_000 }).toBeGreaterThan(2);
    // Several of its registry passes (every 100 ms) saw the closed window, and the stream not empty.
    expect(await registered(couponId)).toBe(1);
    await failing.stop();

    const relay = h.startRelay({ consumer: "retiring", claimIdleMs: 200, retireAfterMs: 0 });

    const relayed = await h.readTopic(3, 30_000, (r) => r.couponId === couponId);
    expect(relayed.map((r) => r.userId).sort()).toEqual(["700", "701", "702"]);
    await expect.poll(() => registered(couponId), { timeout: 10_000 }).toBe(0);

    await h.writeTerms({ ...open, termsVersion: 3 });
    expect(await registered(couponId)).toBe(1);
    expect((await issue([703, 704])).map((r) => r.status)).toEqual([201, 201]);
    const all = await h.readTopic(5, 30_000, (r) => r.couponId === couponId);
    expect(all.map((r) => r.userId).sort()).toEqual(["700", "701", "702", "703", "704"]);
    await relay.stop();
  });
});

describe("outbox settlement", () => {
  const issue = (couponId: number, users: number[]) =>
    Promise.all(users.map((u) => h.post({ eventId: 1, couponId }, h.tokens.token({ sub: String(u) }))));

  it("when a stalled relay still holds entries, then the others' relayed entries leave the stream and the held ones stay to be claimed", async () => {
    const couponId = nextCouponId();
    await h.writeTerms(openCoupon(couponId, 1, 100));
    const { outbox } = couponKeys(couponId);
    await issue(couponId, [500, 501, 502, 503, 504]);
    await h.redis.xgroup("CREATE", outbox, "outbox-relay", "0", "MKSTREAM");
    const reply = (await h.redis.xreadgroup("GROUP", "outbox-relay", "stalled", "STREAMS", outbox, ">")) as [
      string,
      [string, string[]][],
    ][];
    const heldIds = (reply[0]?.[1] ?? []).map(([id]) => id);
    expect(heldIds).toHaveLength(5);
    await issue(couponId, [505, 506, 507, 508, 509, 510, 511, 512, 513, 514]);

    const live = h.startRelay({ consumer: "live" });

    const records = await h.readTopic(10, 30_000, (r) => r.couponId === couponId);
    expect(records.map((r) => r.userId).sort()).toEqual(
      [505, 506, 507, 508, 509, 510, 511, 512, 513, 514].map(String),
    );
    await expect.poll(() => h.redis.xlen(outbox), { timeout: 10_000 }).toBe(5);
    const left = await h.redis.xrange(outbox, "-", "+");
    expect(left.map(([id]) => id)).toEqual(heldIds);
    await live.stop();
  });

  it("when the outbox holds an entry the issuance script never writes, then it is moved to the malformed stream and the rest is relayed", async () => {
    const couponId = nextCouponId();
    await h.writeTerms(openCoupon(couponId, 1, 100));
    const { outbox, malformed } = couponKeys(couponId);
    await issue(couponId, [600, 601]);
    const junkId = await h.redis.xadd(outbox, "*", "hello", "world");
    await issue(couponId, [602]);

    const tidy = h.startRelay({ consumer: "tidy" });

    const records = await h.readTopic(3, 30_000, (r) => r.couponId === couponId);
    expect(records.map((r) => r.userId).sort()).toEqual(["600", "601", "602"]);
    await expect.poll(() => h.redis.xlen(outbox), { timeout: 10_000 }).toBe(0);
    const aside = await h.redis.xrange(malformed, "-", "+");
    expect(aside.map(([, fields]) => fields)).toEqual([["outboxId", junkId, "hello", "world"]]);
    await tidy.stop();
  });
});
