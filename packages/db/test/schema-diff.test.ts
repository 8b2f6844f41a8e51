import { describe, expect, it } from "vitest";
import {
  type ColumnDescription,
  diffSchemas,
  normaliseColumnType,
  type SchemaDescription,
  type TableDescription,
} from "./schema-drift.ts";

const column = (name: string, type: string, extra: Partial<ColumnDescription> = {}): ColumnDescription => ({
  name,
  type,
  nullable: false,
  default: null,
  autoIncrement: false,
  onUpdate: null,
  ...extra,
});

const couponsTable = (): TableDescription => ({
  name: "coupons",
  columns: [
    column("id", "bigint", { autoIncrement: true }),
    column("max_quantity", "int"),
    column("issued_quantity", "int", { default: "0" }),
    column("discount_type", "enum('PERCENT','AMOUNT')"),
  ],
  keys: [
    { kind: "primary", name: "PRIMARY", columns: ["id"] },
    { kind: "unique", name: "uq_coupons_x", columns: ["max_quantity", "issued_quantity"] },
  ],
  foreignKeys: [],
});

const coupons = (table: TableDescription = couponsTable()): SchemaDescription => ({ tables: [table] });

describe("diffSchemas", () => {
  it("when both sides agree, then there is no difference", () => {
    expect(diffSchemas(coupons(), coupons())).toEqual([]);
  });

  it("when the schema has a column the database lacks, then the column is named", () => {
    const table = couponsTable();
    table.columns.push(column("promo_code", "varchar(64)", { nullable: true }));

    expect(diffSchemas(coupons(table), coupons())).toEqual([
      "table coupons: column promo_code (varchar(64)) is in schema.prisma but not in the database",
    ]);
  });

  it("when the database has a column the schema lacks, then that is drift too", () => {
    const table = couponsTable();
    table.columns.push(column("legacy", "int", { nullable: true }));

    expect(diffSchemas(coupons(), coupons(table))).toEqual([
      "table coupons: column legacy (int) is in the database but not in schema.prisma",
    ]);
  });

  it("when a table exists on one side only, then it is reported in either direction", () => {
    const database = coupons();
    database.tables.push({ name: "orphans", columns: [column("id", "int")], keys: [], foreignKeys: [] });

    expect(diffSchemas(coupons(), database)).toEqual([
      "table orphans: in the database but not in schema.prisma",
    ]);
    expect(diffSchemas(database, coupons())).toEqual([
      "table orphans: in schema.prisma but not in the database",
    ]);
  });

  it("when type, nullability, default and auto-increment differ, then each is reported", () => {
    const table = couponsTable();
    table.columns = [
      column("id", "int", { autoIncrement: false }),
      column("max_quantity", "int", { nullable: true }),
      column("issued_quantity", "int"),
      column("discount_type", "enum('PERCENT','AMOUNT','FREE')"),
    ];

    expect(diffSchemas(coupons(), coupons(table))).toEqual([
      "table coupons, column id: type bigint in schema.prisma, int in the database",
      "table coupons, column id: autoincrement in schema.prisma, not AUTO_INCREMENT in the database",
      "table coupons, column max_quantity: NOT NULL in schema.prisma, nullable in the database",
      "table coupons, column issued_quantity: default 0 in schema.prisma, none in the database",
      "table coupons, column discount_type: type enum('PERCENT','AMOUNT') in schema.prisma, " +
        "enum('PERCENT','AMOUNT','FREE') in the database",
    ]);
  });

  it("when a unique key is missing, renamed or extra, then it is reported", () => {
    const inDatabase = couponsTable();
    inDatabase.keys = [
      { kind: "primary", name: "PRIMARY", columns: ["id"] },
      { kind: "unique", name: "other_name", columns: ["max_quantity", "issued_quantity"] },
      { kind: "unique", name: "uq_extra", columns: ["discount_type"] },
    ];
    const inSchema = couponsTable();
    inSchema.keys.push({ kind: "index", name: null, columns: ["issued_quantity"] });

    expect(diffSchemas(coupons(inSchema), coupons(inDatabase))).toEqual([
      "table coupons: unique key uq_coupons_x (max_quantity, issued_quantity) is named other_name in the database",
      "table coupons: index (issued_quantity) is in schema.prisma but not in the database",
      "table coupons: unique key uq_extra (discount_type) is in the database but not in schema.prisma",
    ]);
  });
});

describe("normaliseColumnType", () => {
  it("drops MariaDB's integer display widths but keeps tinyint(1)", () => {
    expect(normaliseColumnType("int(11)")).toBe("int");
    expect(normaliseColumnType("bigint(20) unsigned")).toBe("bigint unsigned");
    expect(normaliseColumnType("tinyint(1)")).toBe("tinyint(1)");
    expect(normaliseColumnType("tinyint(4)")).toBe("tinyint");
    expect(normaliseColumnType("datetime(0)")).toBe("datetime");
    expect(normaliseColumnType("DATETIME(3)")).toBe("datetime(3)");
    expect(normaliseColumnType("ENUM('User','ADMIN')")).toBe("enum('User','ADMIN')");
  });
});
