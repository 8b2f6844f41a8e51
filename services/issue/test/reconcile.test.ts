import { randomUUID } from "node:crypto";
import { couponKeys, OUTBOX_REGISTRY_KEY } from "@coupon/contracts";
import { createPrismaClient, type PrismaClient } from "@coupon/db";
import { createTestDatabase, type TestDatabase } from "@coupon/db/testing";
import { closeRedis, createRedis, type Redis } from "@coupon/redis";
import { testEndpoints } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runReconcileCommand } from "./reconcile-command.ts";

const prefix = `test:reconcile:${randomUUID()}:`;
let db: TestDatabase;
let prisma: PrismaClient;
let redis: Redis;

beforeAll(async () => {
  db = await createTestDatabase({ serverUrl: testEndpoints().databaseServerUrl, label: "reconcile" });
  prisma = createPrismaClient(db.url);
  redis = createRedis(
    { REDIS_URL: testEndpoints().redisUrl, REDIS_SENTINEL_MASTER: "x", REDIS_KEY_PREFIX: prefix },
    "t",
  );
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
  await closeRedis(redis);
  await prisma.$disconnect();
  await db.drop();
});

const runReconcile = (...args: string[]) =>
  runReconcileCommand(
    {
      REDIS_URL: testEndpoints().redisUrl,
      REDIS_KEY_PREFIX: prefix,
      DATABASE_URL: db.url,
    },
    args,
  );

describe("reconcile command", () => {
  it("when Redis accepted users the database lacks, then it reports them, even for a coupon the relay has retired, and --repair puts them back in the outbox and the registry", async () => {
    const now = new Date();
    const event = await prisma.event.create({
      data: { name: "reconcile", startsAt: now, endsAt: new Date(now.getTime() + 3_600_000) },
    });
    const coupon = await prisma.coupon.create({
      data: {
        eventId: event.id,
        discountType: "AMOUNT",
        discountPrice: 1000,
        maxQuantity: 10,
        validFrom: now,
        validUntil: new Date(now.getTime() + 86_400_000),
      },
    });
    const couponId = Number(coupon.id);
    const keys = couponKeys(couponId);
    // Not in the relay's registry, as once the relay has retired it: found by its issued set.
    await redis.sadd(keys.issued, "1", "2", "3", "4", "5");
    await redis.xadd(
      keys.outbox,
      "*",
      "couponId",
      String(couponId),
      "eventId",
      String(event.id),
      "userId",
      "5",
      "issuedAt",
      "1",
      "requestId",
      "",
    );
    await prisma.couponIssue.createMany({
      data: ["1", "2", "9"].map((userId) => ({ couponId: coupon.id, userId: BigInt(userId) })),
    });

    const report = await runReconcile("--json");

    expect(report.code).toBe(2);
    expect(JSON.parse(report.stdout)).toEqual([
      expect.objectContaining({
        couponId,
        stock: 10,
        accepted: 5,
        persisted: 3,
        inFlight: 1,
        missingInDatabase: ["3", "4"],
        unknownToRedis: ["9"],
        consistent: false,
        repaired: 0,
      }),
    ]);
    expect(await redis.xlen(keys.outbox)).toBe(1);

    const repair = await runReconcile("--coupon", String(couponId), "--repair");

    expect(repair.code).toBe(2);
    expect(repair.stdout).toContain("re-emitted 2");
    expect(await redis.sismember(OUTBOX_REGISTRY_KEY, String(couponId))).toBe(1);
    const entries = await redis.xrange(keys.outbox, "-", "+");
    expect(entries.map(([, fields]) => fields[fields.indexOf("userId") + 1]).sort()).toEqual(["3", "4", "5"]);
  });

  it("when a coupon is unknown to the database, then it says so and exits 2", async () => {
    const result = await runReconcile("--coupon", "987654321");
    expect(result.code).toBe(2);
  });
});
