import type { CouponIssued } from "@coupon/contracts";
import { describe, expect, it } from "vitest";
import { type CouponIssueRepository, DatabaseUnavailableError, persistIssuances } from "./persist.ts";

const issuance = (userId: string): CouponIssued => ({
  issueId: `id-${userId}`,
  couponId: 1,
  eventId: 1,
  userId,
  issuedAt: "2026-01-01T00:00:00.000Z",
});

/** A table with a unique key on the user, which refuses some users and can become unreachable. */
class InMemoryTable implements CouponIssueRepository {
  readonly rows = new Set<string>();
  readonly statements: string[][] = [];
  refused = new Set<string>();
  unavailableAfter = Number.POSITIVE_INFINITY;

  async insertAll(issuances: readonly CouponIssued[]): Promise<number> {
    if (this.statements.length >= this.unavailableAfter) throw new DatabaseUnavailableError("pool timeout");
    this.statements.push(issuances.map((i) => i.userId));
    const refused = issuances.find((i) => this.refused.has(i.userId));
    if (refused) throw new Error(`user ${refused.userId} refused`);
    const fresh = issuances.filter((i) => !this.rows.has(i.userId));
    for (const i of fresh) this.rows.add(i.userId);
    return new Set(fresh.map((i) => i.userId)).size;
  }
}

const self = (i: CouponIssued) => i;

describe("persistIssuances", () => {
  it("when every row is accepted, then one statement stores the batch and counts what was already there", async () => {
    const table = new InMemoryTable();
    table.rows.add("2");

    const result = await persistIssuances(table, ["1", "2", "3"].map(issuance), self);

    expect(result).toEqual({ inserted: 2, duplicates: 1, rejected: [] });
    expect(table.statements).toEqual([["1", "2", "3"]]);
  });

  it("when the database refuses one row, then the others are stored one by one and only that row is reported", async () => {
    const table = new InMemoryTable();
    table.refused.add("2");
    const items = ["1", "2", "3"].map(issuance);

    const result = await persistIssuances(table, items, self);

    expect(result).toEqual({
      inserted: 2,
      duplicates: 0,
      rejected: [{ item: items[1], error: "user 2 refused" }],
    });
    expect([...table.rows].sort()).toEqual(["1", "3"]);
    expect(table.statements).toEqual([["1", "2", "3"], ["1"], ["2"], ["3"]]);
  });

  it("when a batch of one is refused, then it is reported without a second statement", async () => {
    const table = new InMemoryTable();
    table.refused.add("1");
    const items = [issuance("1")];

    const result = await persistIssuances(table, items, self);

    expect(result.rejected).toEqual([{ item: items[0], error: "user 1 refused" }]);
    expect(table.statements).toHaveLength(1);
  });

  it("when the database is unavailable, then it rejects with DatabaseUnavailableError and reports no row as refused", async () => {
    const table = new InMemoryTable();
    table.unavailableAfter = 0;

    await expect(persistIssuances(table, ["1", "2"].map(issuance), self)).rejects.toBeInstanceOf(
      DatabaseUnavailableError,
    );
  });

  it("when the database becomes unavailable while rows are tried one by one, then it rejects instead of refusing the rest", async () => {
    const table = new InMemoryTable();
    table.refused.add("1");
    table.unavailableAfter = 2;

    await expect(persistIssuances(table, ["1", "2", "3"].map(issuance), self)).rejects.toBeInstanceOf(
      DatabaseUnavailableError,
    );
    expect(table.statements).toEqual([["1", "2", "3"], ["1"]]);
  });

  it("when there is nothing to store, then no statement is sent", async () => {
    const table = new InMemoryTable();

    expect(await persistIssuances(table, [], self)).toEqual({ inserted: 0, duplicates: 0, rejected: [] });
    expect(table.statements).toEqual([]);
  });
});
