// `pnpm --filter @coupon/db migrate`: applies the SQL migrations to DATABASE_URL
// (mysql://user:password@host:port/database) with dbmate. No schema dump is written.
import { migrateDatabase } from "../src/migrate.ts";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("DATABASE_URL is not set (expected mysql://user:password@host:port/database)");
  process.exit(1);
}
await migrateDatabase(databaseUrl);
console.log("migrations applied");
