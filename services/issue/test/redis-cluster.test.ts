import { couponKeys } from "@coupon/contracts";
import { createPrismaClient, type PrismaClient } from "@coupon/db";
import { createTestDatabase, type TestDatabase } from "@coupon/db/testing";
import { ownRedisCluster, testEndpoints } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, openCoupon, startHarness } from "./harness.ts";
import { runReconcileCommand } from "./reconcile-command.ts";

const cluster = ownRedisCluster({ basePort: 32300 });
const STOCK = 5;
let h: Harness;
let db: TestDatabase;
let prisma: PrismaClient;
let eventId: number;
/** Three coupons of the database whose hash tags land on three different masters. */
let coupons: number[];

beforeAll(async () => {
  await cluster.start();
  db = await createTestDatabase({ serverUrl: testEndpoints().databaseServerUrl, label: "redis-cluster" });
  prisma = createPrismaClient(db.url, { poolSize: 2 });
  const now = new Date();
  const event = await prisma.event.create({
    data: { name: "cluster", startsAt: now, endsAt: new Date(now.getTime() + 3_600_000) },
  });
  eventId = Number(event.id);
  const byMaster = new Map<number, number>();
  while (byMaster.size < cluster.ports.length) {
    const coupon = await prisma.coupon.create({
      data: {
        eventId: event.id,
        discountType: "AMOUNT",
        discountPrice: 1000,
        maxQuantity: STOCK,
        validFrom: now,
        validUntil: new Date(now.getTime() + 86_400_000),
      },
    });
    const couponId = Number(coupon.id);
    const master = await cluster.masterOf(`{coupon:${couponId}}`);
    if (!byMaster.has(master)) byMaster.set(master, couponId);
  }
  coupons = [...byMaster.values()];
  h = await startHarness("redis-cluster", { redisClusterNodes: cluster.nodes });
}, 120_000);

afterAll(async () => {
  await h?.close();
  await prisma?.$disconnect();
  await db?.drop();
  await cluster.stop();
}, 60_000);

const claim = (couponId: number, user: number) =>
  h.post({ eventId, couponId }, h.tokens.token({ sub: String(user) }));

const runReconcile = (...args: string[]) =>
  runReconcileCommand(
    {
      REDIS_CLUSTER_NODES: cluster.nodes.join(","),
      REDIS_KEY_PREFIX: h.prefix,
      DATABASE_URL: db.url,
    },
    args,
  );

const usersOf = (couponId: number) => h.redis.smembers(couponKeys(couponId).issued);

describe("on a Redis Cluster of three masters", () => {
  it("when users race for coupons on three masters, then each issues its exact stock once per user", async () => {
    for (const couponId of coupons) await h.writeTerms(openCoupon(couponId, eventId, STOCK));

    const answers = await Promise.all(
      coupons.flatMap((couponId, c) =>
        Array.from({ length: 12 }, (_, i) => claim(couponId, c * 100 + i + 1)),
      ),
    );
    const again = await Promise.all(
      coupons.map(async (couponId) => claim(couponId, Number((await usersOf(couponId))[0]))),
    );

    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(STOCK * coupons.length);
    expect(answers.filter((a) => a.status === 409).map((a) => a.body.code)).toEqual(
      Array(coupons.length * (12 - STOCK)).fill("COUPON_ISSUE_QUANTITY_EXCEEDED"),
    );
    expect(again.map((a) => [a.status, a.body.code])).toEqual(
      coupons.map(() => [409, "COUPON_ALREADY_ISSUED_BY_USER"]),
    );
    for (const couponId of coupons) {
      expect(await usersOf(couponId)).toHaveLength(STOCK);
      expect(await h.redis.xlen(couponKeys(couponId).outbox)).toBe(STOCK);
    }
  });

  it("when the relay runs, then every acceptance of the three masters reaches Kafka and leaves its outbox", async () => {
    h.startRelay();

    const records = await h.readTopic(STOCK * coupons.length);

    for (const couponId of coupons) {
      const published = records.filter((r) => r.couponId === couponId).map((r) => r.userId);
      expect(published.sort()).toEqual((await usersOf(couponId)).sort());
      await expect.poll(() => h.redis.xlen(couponKeys(couponId).outbox), { timeout: 10_000 }).toBe(0);
    }
  });

  it("when the database lacks some acceptances, then reconcile finds the coupons on every master, reports them and --repair delivers them", async () => {
    const [complete, partial, empty] = coupons as [number, number, number];
    const rows = async (couponId: number, users: string[]) =>
      prisma.couponIssue.createMany({
        data: users.map((userId) => ({ couponId: BigInt(couponId), userId: BigInt(userId) })),
      });
    await rows(complete, await usersOf(complete));
    const partialUsers = (await usersOf(partial)).sort();
    await rows(partial, partialUsers.slice(2));

    const report = await runReconcile("--json");

    expect(report.code).toBe(2);
    const byCoupon = new Map(
      (
        JSON.parse(report.stdout) as { couponId: number; missingInDatabase: string[]; consistent: boolean }[]
      ).map((r) => [r.couponId, r]),
    );
    expect([...byCoupon.keys()].sort()).toEqual([...coupons].sort());
    expect(byCoupon.get(complete)).toMatchObject({ consistent: true, missingInDatabase: [] });
    expect(byCoupon.get(partial)?.missingInDatabase.sort()).toEqual(partialUsers.slice(0, 2));
    expect(byCoupon.get(empty)?.missingInDatabase).toHaveLength(STOCK);

    const repair = await runReconcile("--repair");

    expect(repair.code).toBe(2);
    const redelivered = await h.readTopic(STOCK * coupons.length + 2 + STOCK, 30_000);
    const count = (couponId: number) => redelivered.filter((r) => r.couponId === couponId).length;
    expect([count(complete), count(partial), count(empty)]).toEqual([STOCK, STOCK + 2, STOCK * 2]);
  });
});
