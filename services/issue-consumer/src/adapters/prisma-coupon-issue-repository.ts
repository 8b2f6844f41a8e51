import type { CouponIssued } from "@coupon/contracts";
import { describeDatabaseError, isDatabaseUnavailable, Prisma, type PrismaClient } from "@coupon/db";
import { type CouponIssueRepository, DatabaseUnavailableError } from "../domain/persist.ts";

export interface PrismaCouponIssueRepositoryOptions {
  /** Called after every INSERT statement, successful or not, with its row count and duration. */
  onInsert?: (rows: number, seconds: number) => void;
}

/** DATETIME(3) text in UTC, the session's time zone (packages/db sets it on every connection). */
const toDatetime = (iso: string) => new Date(iso).toISOString().slice(0, 23).replace("T", " ");

/**
 * Stores issuances in coupon_issues with INSERT IGNORE: a row already there (same coupon and user)
 * is skipped. The statement is what Prisma's createMany with skipDuplicates sends to MariaDB,
 * written out: createMany compiles every call with Prisma's query compiler, which cost 8 to 40
 * times as much CPU per row as the insert itself (bench/README.md, "Optimisations").
 */
export function createPrismaCouponIssueRepository(
  prisma: PrismaClient,
  options: PrismaCouponIssueRepositoryOptions = {},
): CouponIssueRepository {
  return {
    async insertAll(issuances: readonly CouponIssued[]): Promise<number> {
      const started = process.hrtime.bigint();
      try {
        const rows = issuances.map(
          (issuance) =>
            Prisma.sql`(${issuance.issueId}, ${BigInt(issuance.couponId)}, ${BigInt(issuance.eventId)}, ${BigInt(issuance.userId)}, ${toDatetime(issuance.issuedAt)})`,
        );
        return await prisma.$executeRaw`INSERT IGNORE INTO coupon_issues (issue_id, coupon_id, event_id, user_id, issued_at) VALUES ${Prisma.join(rows)}`;
      } catch (error) {
        const message = describeDatabaseError(error);
        if (isDatabaseUnavailable(error)) throw new DatabaseUnavailableError(message, { cause: error });
        throw new Error(message, { cause: error });
      } finally {
        options.onInsert?.(issuances.length, Number(process.hrtime.bigint() - started) / 1e9);
      }
    },
  };
}
