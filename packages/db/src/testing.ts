// Helpers for tests that need a real database: each test file gets its own freshly migrated
// database on the test MariaDB instance (INFRA_INSTANCE=test scripts/infra/mariadb.sh start), so
// test files run in parallel without seeing each other's rows.
import { randomBytes } from "node:crypto";
import mariadb from "mariadb";
import { parseDatabaseUrl, withDatabase } from "./database-url.ts";
import { migrateDatabase } from "./migrate.ts";

export interface TestDatabase {
  /** Database name, `test_<label>_<random>`. */
  name: string;
  /** mysql://… URL of the new database, for createPrismaClient or a service's DATABASE_URL. */
  url: string;
  /** Drops the database. Safe to call more than once. */
  drop(): Promise<void>;
}

export interface CreateTestDatabaseOptions {
  /** The MariaDB server to create the database on: the test instance's is `testEndpoints().databaseServerUrl`. */
  serverUrl: string;
  /** Part of the database name that says who made it, e.g. the test file's name. */
  label?: string;
  /** Apply the migrations (default true); false gives an empty database. */
  migrate?: boolean;
}

/** Creates a uniquely named, migrated database on the server and returns its URL and a drop(). */
export async function createTestDatabase(options: CreateTestDatabaseOptions): Promise<TestDatabase> {
  const { serverUrl } = options;
  const label = (options.label ?? "db")
    .toLowerCase()
    .replace(/\.test\.ts$|\.ts$/, "")
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 40);
  const name = `test_${label || "db"}_${randomBytes(5).toString("hex")}`;
  await onServer(serverUrl, (conn) =>
    conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`),
  );
  const url = withDatabase(serverUrl, name);
  let dropped = false;
  const drop = async (): Promise<void> => {
    if (dropped) return;
    dropped = true;
    await onServer(serverUrl, (conn) => conn.query(`DROP DATABASE IF EXISTS \`${name}\``));
  };
  if (options.migrate ?? true) {
    try {
      await migrateDatabase(url);
    } catch (error) {
      await drop().catch(() => {});
      throw error;
    }
  }
  return { name, url, drop };
}

async function onServer<T>(serverUrl: string, work: (conn: mariadb.Connection) => Promise<T>): Promise<T> {
  const config = parseDatabaseUrl(serverUrl);
  let conn: mariadb.Connection;
  try {
    conn = await mariadb.createConnection({
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      connectTimeout: 5_000,
    });
  } catch (error) {
    throw new Error(
      `cannot connect to the test MariaDB at ${config.host}:${config.port} (${(error as Error).message}); ` +
        "run the tests with `pnpm test`, whose global setup starts the test instance",
      { cause: error },
    );
  }
  try {
    return await work(conn);
  } finally {
    await conn.end();
  }
}
