import type { CouponIssued } from "@coupon/contracts";

/** The coupon_issues table, where the consumer stores issuances (adapters/prisma-coupon-issue-repository.ts). */
export interface CouponIssueRepository {
  /**
   * Stores the issuances in one statement, skipping those already stored (same coupon and user),
   * and returns how many rows are new. Rejects with DatabaseUnavailableError when the database
   * cannot be used at all, with any other error when it refused the statement.
   */
  insertAll(issuances: readonly CouponIssued[]): Promise<number>;
}

/**
 * The database cannot take any write right now (unreachable, timing out, out of connections,
 * read-only…). Not the records' fault: the same records must be tried again later, never parked.
 */
export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
}

export interface PersistResult<T> {
  inserted: number;
  duplicates: number;
  /** The items whose row the database refused, each with its reason. */
  rejected: { item: T; error: string }[];
}

/**
 * Stores a batch with one multi-row insert. When the database refuses that statement, the rows are
 * tried one by one, so that only the rows it refuses are reported and the rest are stored. Rejects
 * with DatabaseUnavailableError (and nothing else) as soon as the database is unavailable: rows
 * stored until then stay stored, which is harmless because the insert is idempotent.
 */
export async function persistIssuances<T>(
  table: CouponIssueRepository,
  items: readonly T[],
  issuanceOf: (item: T) => CouponIssued,
): Promise<PersistResult<T>> {
  const result: PersistResult<T> = { inserted: 0, duplicates: 0, rejected: [] };
  if (items.length === 0) return result;
  try {
    result.inserted = await table.insertAll(items.map(issuanceOf));
    result.duplicates = items.length - result.inserted;
    return result;
  } catch (error) {
    if (error instanceof DatabaseUnavailableError) throw error;
    if (items.length === 1) {
      result.rejected.push({ item: items[0] as T, error: describe(error) });
      return result;
    }
  }
  for (const item of items) {
    try {
      const inserted = await table.insertAll([issuanceOf(item)]);
      result.inserted += inserted;
      result.duplicates += 1 - inserted;
    } catch (error) {
      if (error instanceof DatabaseUnavailableError) throw error;
      result.rejected.push({ item, error: describe(error) });
    }
  }
  return result;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
