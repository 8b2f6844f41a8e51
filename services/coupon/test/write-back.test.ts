import { couponKeys } from "@coupon/contracts";
import type { Redis } from "@coupon/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaCouponRepository } from "../src/adapters/prisma-coupon-repository.ts";
import { createRedisIssuedCounter } from "../src/adapters/redis-issued-counter.ts";
import { createRedisLease } from "../src/adapters/redis-lease.ts";
import type { CouponRepository } from "../src/domain/ports.ts";
import { createWriteBackJob, type WriteBackJob } from "../src/domain/write-back.ts";
import { eventually, silentLogger, startInfra, type TestInfra } from "./support.ts";

const HOUR = 3_600_000;
const LEASE_TTL_MS = 1_000;

let infra: TestInfra;
let repository: CouponRepository;
let leaseCount = 0;

beforeAll(async () => {
  infra = await startInfra("coupon_write_back");
  repository = createPrismaCouponRepository(infra.prisma);
});

afterAll(() => infra?.close());

interface Replica {
  job: WriteBackJob;
  /** Rounds in which this replica read the coupons to write back, i.e. rounds it led. */
  rounds: () => number;
  /** Rounds it reported as written (the last-success gauge's source). */
  succeeded: () => number;
  redis: Redis;
}

/** A replica of the job with its own Redis connection, competing for one lease key per test. */
function replica(leaseKey: string, holder: string, intervalMs = 50): Replica {
  const redis = infra.connectRedis();
  let rounds = 0;
  let succeeded = 0;
  const counted: CouponRepository = {
    ...repository,
    writeBackCandidates(now, endedAfter) {
      rounds++;
      return repository.writeBackCandidates(now, endedAfter);
    },
  };
  const job = createWriteBackJob({
    lease: createRedisLease(redis, { key: leaseKey, holder, ttlMs: LEASE_TTL_MS }),
    repository: counted,
    issued: createRedisIssuedCounter(redis),
    intervalMs,
    graceMs: HOUR,
    logger: silentLogger,
    succeeded: () => {
      succeeded++;
    },
  });
  return { job, rounds: () => rounds, succeeded: () => succeeded, redis };
}

const newLeaseKey = () => `write-back-lease-${++leaseCount}`;

async function givenCoupon(window: { startsAt: Date; endsAt: Date }, maxQuantity = 10): Promise<number> {
  const event = await repository.createEvent({ name: "write-back", ...window });
  const coupon = await repository.createCoupon({
    eventId: event.id,
    discountType: "PERCENT",
    discountRate: 10,
    discountPrice: null,
    maxQuantity,
    validFrom: window.startsAt,
    validUntil: new Date(window.endsAt.getTime() + HOUR),
  });
  if (!coupon) throw new Error("the event vanished");
  return coupon.id;
}

const openNow = () => ({ startsAt: new Date(Date.now() - HOUR), endsAt: new Date(Date.now() + HOUR) });

async function issue(couponId: number, ...userIds: number[]): Promise<void> {
  await infra.redis.sadd(couponKeys(couponId).issued, ...userIds.map(String));
}

async function stored(couponId: number): Promise<number> {
  const row = await infra.prisma.coupon.findUniqueOrThrow({ where: { id: BigInt(couponId) } });
  return row.issuedQuantity;
}

describe("write-back of issued counts", () => {
  it("when two replicas run the job at once, then only one of them writes, round after round", async () => {
    const couponId = await givenCoupon(openNow());
    await issue(couponId, 1, 2, 3);
    const key = newLeaseKey();
    const [a, b] = [replica(key, "replica-a"), replica(key, "replica-b")];

    a.job.start();
    b.job.start();
    try {
      await eventually(
        () => stored(couponId),
        (n) => n === 3,
      );
      await issue(couponId, 4, 5);
      await eventually(
        () => stored(couponId),
        (n) => n === 5,
      );
      await eventually(
        async () => a.rounds() + b.rounds(),
        (n) => n >= 10,
      );

      const leader = a.rounds() > 0 ? a : b;
      const follower = leader === a ? b : a;
      expect(follower.rounds()).toBe(0);
      expect(leader.succeeded()).toBeGreaterThan(0);
      expect(follower.succeeded()).toBe(0);
      expect(await infra.redis.get(key)).toBe(leader === a ? "replica-a" : "replica-b");
    } finally {
      await Promise.all([a.job.stop(), b.job.stop()]);
    }
  });

  it("when the leader dies without a word, then the other takes over only once its lease has expired", async () => {
    const couponId = await givenCoupon(openNow());
    await issue(couponId, 1);
    const key = newLeaseKey();
    const [a, b] = [replica(key, "replica-a"), replica(key, "replica-b")];

    expect(await a.job.runOnce()).toBe(true);
    expect(await stored(couponId)).toBe(1);
    // From here on replica a is gone: no more rounds, no release.
    await issue(couponId, 2, 3);

    expect(await b.job.runOnce()).toBe(false);
    expect(await infra.redis.get(key)).toBe("replica-a");
    expect(await stored(couponId)).toBe(1);

    await eventually(
      () => infra.redis.exists(key),
      (n) => n === 0,
    );
    expect(await b.job.runOnce()).toBe(true);
    expect(await stored(couponId)).toBe(3);
    expect(await infra.redis.get(key)).toBe("replica-b");
    // Should a come back, the lease is no longer its own to renew.
    expect(await a.job.runOnce()).toBe(false);
  });

  it("when the leader stops gracefully, then it gives the lease up and the other takes over at its next round", async () => {
    const couponId = await givenCoupon(openNow());
    const key = newLeaseKey();
    const [a, b] = [replica(key, "replica-a"), replica(key, "replica-b")];
    expect(await a.job.runOnce()).toBe(true);
    await issue(couponId, 1, 2);

    await a.job.stop();

    expect(await infra.redis.exists(key)).toBe(0);
    expect(await b.job.runOnce()).toBe(true);
    expect(await stored(couponId)).toBe(2);
  });

  it("when Redis counts fewer than stored (a lost set), then the stored count is kept: it never decreases", async () => {
    const couponId = await givenCoupon(openNow());
    await infra.prisma.coupon.update({ where: { id: BigInt(couponId) }, data: { issuedQuantity: 8 } });
    await issue(couponId, 1, 2, 3);

    expect(await replica(newLeaseKey(), "solo").job.runOnce()).toBe(true);

    expect(await stored(couponId)).toBe(8);
  });

  it("when Redis counts more than the stock, then the stock is stored", async () => {
    const couponId = await givenCoupon(openNow(), 4);
    await issue(couponId, 1, 2, 3, 4, 5, 6);

    await replica(newLeaseKey(), "solo").job.runOnce();

    expect(await stored(couponId)).toBe(4);
  });

  it("when an event has not started or ended longer ago than the grace period, then its coupons are left alone", async () => {
    const now = Date.now();
    const future = await givenCoupon({ startsAt: new Date(now + HOUR), endsAt: new Date(now + 2 * HOUR) });
    const longOver = await givenCoupon({
      startsAt: new Date(now - 3 * HOUR),
      endsAt: new Date(now - 2 * HOUR),
    });
    const justOver = await givenCoupon({
      startsAt: new Date(now - 2 * HOUR),
      endsAt: new Date(now - HOUR / 2),
    });
    for (const couponId of [future, longOver, justOver]) await issue(couponId, 1, 2);

    await replica(newLeaseKey(), "solo").job.runOnce();

    expect([await stored(future), await stored(longOver), await stored(justOver)]).toEqual([0, 0, 2]);
  });
});

describe("the stored update itself", () => {
  it("when another writer stored more meanwhile, then a smaller count changes nothing; a larger one is capped by the stock", async () => {
    const couponId = await givenCoupon(openNow(), 10);
    await infra.prisma.coupon.update({ where: { id: BigInt(couponId) }, data: { issuedQuantity: 6 } });

    expect(await repository.raiseIssuedQuantity(couponId, 4)).toBe(false);
    expect(await stored(couponId)).toBe(6);
    expect(await repository.raiseIssuedQuantity(couponId, 25)).toBe(true);
    expect(await stored(couponId)).toBe(10);
    expect(await repository.raiseIssuedQuantity(couponId, 25)).toBe(false);
  });
});

describe("Redis lease", () => {
  it("when another holder has the lease, then it can neither take, renew nor release it", async () => {
    const key = newLeaseKey();
    const mine = createRedisLease(infra.redis, { key, holder: "mine", ttlMs: 60_000 });
    const theirs = createRedisLease(infra.connectRedis(), { key, holder: "theirs", ttlMs: 60_000 });

    expect(await mine.hold()).toBe(true);
    expect(await theirs.hold()).toBe(false);
    await theirs.release();
    expect(await infra.redis.get(key)).toBe("mine");

    await infra.redis.pexpire(key, 5_000);
    expect(await mine.hold()).toBe(true);
    expect(await infra.redis.pttl(key)).toBeGreaterThan(5_000);

    await mine.release();
    expect(await infra.redis.exists(key)).toBe(0);
    expect(await theirs.hold()).toBe(true);
  });
});
