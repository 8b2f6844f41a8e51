import { createPrismaClient } from "@coupon/db";
import { expect } from "vitest";

/** Waits until the coupon has `expected` rows, then returns the users that hold one (with repeats). */
export async function persistedUsers(
  databaseUrl: string,
  couponId: number,
  expected: number,
): Promise<string[]> {
  const prisma = createPrismaClient(databaseUrl, { poolSize: 1 });
  try {
    await expect
      .poll(() => prisma.couponIssue.count({ where: { couponId: BigInt(couponId) } }), {
        timeout: 60_000,
        interval: 200,
      })
      .toBeGreaterThanOrEqual(expected);
    const rows = await prisma.couponIssue.findMany({
      where: { couponId: BigInt(couponId) },
      select: { userId: true },
    });
    return rows.map((row) => String(row.userId));
  } finally {
    await prisma.$disconnect();
  }
}
