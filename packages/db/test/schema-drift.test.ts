// schema.prisma and the SQL migrations must describe the same database. The migrations are applied to
// a fresh database, which is then compared with schema.prisma, table by table and column by column.

import { testEndpoints } from "@coupon/testing";
import mariadb from "mariadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDatabaseUrl } from "../src/database-url.ts";
import { createTestDatabase, type TestDatabase } from "../src/testing.ts";
import { describeSchemaText, readSchemaFile } from "./prisma-schema.ts";
import { describeDatabase, diffSchemas, type SchemaDescription } from "./schema-drift.ts";

describe("schema.prisma and the migrated database", () => {
  let db: TestDatabase;
  let migrated: SchemaDescription;

  beforeAll(async () => {
    db = await createTestDatabase({ serverUrl: testEndpoints().databaseServerUrl, label: "schema_drift" });
    const { host, port, user, password, database } = parseDatabaseUrl(db.url);
    const conn = await mariadb.createConnection({ host, port, user, password, database });
    try {
      migrated = await describeDatabase((sql, params) => conn.query(sql, params), database);
    } finally {
      await conn.end();
    }
  });

  afterAll(async () => {
    await db?.drop();
  });

  it("when the migrations have run, then the database matches schema.prisma exactly", async () => {
    const schema = await describeSchemaText(await readSchemaFile());

    const differences = diffSchemas(schema, migrated);

    expect(differences, `schema drift:\n  ${differences.join("\n  ")}\n`).toEqual([]);
    // Not vacuous: all four tables were compared, with their columns.
    expect(schema.tables.map((t) => t.name).sort()).toEqual(["coupon_issues", "coupons", "events", "users"]);
    expect(migrated.tables.find((t) => t.name === "coupons")?.columns).toHaveLength(12);
  });

  it("when a field is added to schema.prisma without a migration, then the drift names its column", async () => {
    const text = await readSchemaFile();
    const withExtraField = text.replace(
      /(model Coupon \{\n)/,
      '$1  driftProbe String? @map("drift_probe") @db.VarChar(64)\n',
    );
    expect(withExtraField).not.toBe(text);

    const differences = diffSchemas(await describeSchemaText(withExtraField), migrated);

    expect(differences).toEqual([
      "table coupons: column drift_probe (varchar(64)) is in schema.prisma but not in the database",
    ]);
  });
});
