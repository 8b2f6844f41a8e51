// Prisma 7 with the MariaDB driver adapter against a real, freshly migrated database.

import { testEndpoints } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, Prisma, type PrismaClient } from "../src/index.ts";
import { createTestDatabase, type TestDatabase } from "../src/testing.ts";

describe.each([
  { protocol: "binary (prepared statements)", textProtocol: false },
  { protocol: "text", textProtocol: true },
])("Prisma client over the MariaDB adapter, $protocol protocol", ({ textProtocol }) => {
  let db: TestDatabase;
  let prisma: PrismaClient;

  beforeAll(async () => {
    db = await createTestDatabase({
      serverUrl: testEndpoints().databaseServerUrl,
      label: "prisma_roundtrip",
    });
    prisma = createPrismaClient(db.url, { poolSize: 4, textProtocol });
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await db?.drop();
  });

  async function givenCoupon(maxQuantity = 100) {
    const event = await prisma.event.create({
      data: {
        name: "Black Friday",
        startsAt: new Date("2026-11-27T00:00:00.000Z"),
        endsAt: new Date("2026-11-28T00:00:00.000Z"),
      },
    });
    return prisma.coupon.create({
      data: {
        eventId: event.id,
        discountType: "PERCENT",
        discountRate: 10,
        maxQuantity,
        validFrom: new Date("2026-11-27T00:00:00.000Z"),
        validUntil: new Date("2026-12-31T23:59:59.999Z"),
      },
    });
  }

  async function givenUser(email = `u-${Math.random().toString(36).slice(2)}@example.com`) {
    return prisma.user.create({ data: { email, passwordHash: "$argon2id$v=19$m=65536,t=3,p=4$x$y" } });
  }

  it("when a user, an event, a coupon and an issue are created, then they read back with defaults", async () => {
    const before = Date.now();
    const user = await givenUser("alice@example.com");
    const coupon = await givenCoupon();

    const issue = await prisma.couponIssue.create({ data: { couponId: coupon.id, userId: user.id } });

    expect(typeof user.id).toBe("bigint");
    expect(user.role).toBe("USER");
    expect(coupon.issuedQuantity).toBe(0);
    expect(coupon.discountPrice).toBeNull();
    expect(issue.status).toBe("ACTIVE");
    const read = await prisma.coupon.findUniqueOrThrow({
      where: { id: coupon.id },
      include: { event: true },
    });
    expect(read.event.name).toBe("Black Friday");
    expect(read.validUntil.toISOString()).toBe("2026-12-31T23:59:59.999Z");
    // Database defaults (CURRENT_TIMESTAMP(3)) are UTC like Prisma's own dates: no hours of offset.
    const stored = await prisma.couponIssue.findUniqueOrThrow({ where: { id: issue.id } });
    expect(Math.abs(stored.issuedAt.getTime() - before)).toBeLessThan(60_000);
    expect(
      await prisma.couponIssue.findUnique({
        where: { couponId_userId: { couponId: coupon.id, userId: user.id } },
      }),
    ).toMatchObject({ id: issue.id });
  });

  it("when raw SQL is run, then it sees the rows and returns typed values", async () => {
    const user = await givenUser();
    const coupon = await givenCoupon();
    await prisma.couponIssue.create({ data: { couponId: coupon.id, userId: user.id } });

    const rows = await prisma.$queryRaw<{ n: bigint; status: string }[]>`
      SELECT COUNT(*) AS n, MAX(status) AS status FROM coupon_issues WHERE coupon_id = ${coupon.id}`;
    const updated = await prisma.$executeRaw`
      UPDATE coupons SET issued_quantity = GREATEST(issued_quantity, ${1}) WHERE id = ${coupon.id}`;

    expect(rows).toEqual([{ n: 1n, status: "ACTIVE" }]);
    expect(updated).toBe(1);
    const after = await prisma.coupon.findUniqueOrThrow({ where: { id: coupon.id } });
    expect(after.issuedQuantity).toBe(1);
    // updated_at is kept by the database too (ON UPDATE CURRENT_TIMESTAMP(3)), even for raw SQL.
    expect(after.updatedAt.getTime()).toBeGreaterThanOrEqual(coupon.updatedAt.getTime());
  });

  it("when a transaction commits, then all its writes are visible; when it throws, then none are", async () => {
    const user = await givenUser();
    const coupon = await givenCoupon();

    await prisma.$transaction(async (tx) => {
      await tx.couponIssue.create({ data: { couponId: coupon.id, userId: user.id } });
      await tx.coupon.update({ where: { id: coupon.id }, data: { issuedQuantity: { increment: 1 } } });
    });
    const other = await givenUser();
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.couponIssue.create({ data: { couponId: coupon.id, userId: other.id } });
        await tx.coupon.update({ where: { id: coupon.id }, data: { issuedQuantity: { increment: 1 } } });
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");

    expect(await prisma.couponIssue.count({ where: { couponId: coupon.id } })).toBe(1);
    expect((await prisma.coupon.findUniqueOrThrow({ where: { id: coupon.id } })).issuedQuantity).toBe(1);
  });

  it("when the same user gets the same coupon twice, then the unique key rejects it with P2002", async () => {
    const user = await givenUser();
    const coupon = await givenCoupon();
    await prisma.couponIssue.create({ data: { couponId: coupon.id, userId: user.id } });

    const duplicate = prisma.couponIssue.create({ data: { couponId: coupon.id, userId: user.id } });

    await expect(duplicate).rejects.toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    await expect(duplicate).rejects.toMatchObject({ code: "P2002" });
    expect(await prisma.couponIssue.count({ where: { couponId: coupon.id } })).toBe(1);
  });

  it("when a batch repeats an issuance, then createMany with skipDuplicates inserts only the new rows", async () => {
    const [a, b] = [await givenUser(), await givenUser()];
    const coupon = await givenCoupon();
    await prisma.couponIssue.create({ data: { couponId: coupon.id, userId: a.id } });

    const result = await prisma.couponIssue.createMany({
      data: [
        { couponId: coupon.id, userId: a.id },
        { couponId: coupon.id, userId: b.id },
      ],
      skipDuplicates: true,
    });

    expect(result.count).toBe(1);
    expect(await prisma.couponIssue.count({ where: { couponId: coupon.id } })).toBe(2);
  });

  it("when issued_quantity would exceed max_quantity, then the database refuses the update", async () => {
    const coupon = await givenCoupon(2);

    const overIssue = prisma.coupon.update({ where: { id: coupon.id }, data: { issuedQuantity: 3 } });

    await expect(overIssue).rejects.toThrow(/ck_coupons_issued_quantity/);
  });
});
