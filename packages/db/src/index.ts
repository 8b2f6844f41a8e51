import { PrismaMariaDb } from "@prisma/adapter-mariadb";
import { parseDatabaseUrl } from "./database-url.ts";
import type { DatabaseEnv } from "./env.ts";
import { PrismaClient } from "./generated/client.ts";

export type { DatabaseConnectionConfig } from "./database-url.ts";
export { parseDatabaseUrl, toDbmateUrl, withDatabase } from "./database-url.ts";
export { type DatabaseEnv, databaseEnv } from "./env.ts";
export { describeDatabaseError, isDatabaseUnavailable } from "./errors.ts";
export * from "./generated/client.ts";
export type { MigrateOptions } from "./migrate.ts";
export { migrateDatabase, migrationsDir } from "./migrate.ts";

export interface PrismaClientOptions {
  /** Connections in the pool; defaults to the URL's `connection_limit`, else 10. */
  poolSize?: number;
  /** Milliseconds to wait for a free pool connection before the query fails; default 10 000. */
  acquireTimeoutMs?: number;
  /** Milliseconds to wait for a new connection to be established; default 5 000. */
  connectTimeoutMs?: number;
  /**
   * Milliseconds a connection may go without a byte from the server before it is closed and its
   * query fails; 0 (the default) waits for ever. Without it a hung server (not down: stopped, or
   * cut off without a reset) holds every request that reaches it. An idle pooled connection is
   * closed after as long, and opened again on demand.
   */
  socketTimeoutMs?: number;
  /**
   * Send queries over the text protocol instead of as prepared statements (the adapter's default,
   * which prepares and closes a statement per query because its statement cache is off).
   */
  textProtocol?: boolean;
}

/**
 * A Prisma client over the MariaDB driver adapter, with its own connection pool. Every caller
 * (a service's composition root, a test) creates and disconnects its own client: there is no shared
 * module-level instance.
 */
export function createPrismaClient(databaseUrl: string, options: PrismaClientOptions = {}): PrismaClient {
  const config = parseDatabaseUrl(databaseUrl);
  if (!config.database) throw new Error("database URL must name a database (mysql://…/<database>)");
  const adapter = new PrismaMariaDb(
    {
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      database: config.database,
      connectionLimit: options.poolSize ?? config.connectionLimit ?? 10,
      acquireTimeout: options.acquireTimeoutMs ?? 10_000,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      socketTimeout: options.socketTimeoutMs ?? 0,
      // Prisma sends and reads DATETIME values as UTC; CURRENT_TIMESTAMP defaults must agree with it,
      // whatever the server's own time zone is.
      initSql: "SET time_zone = '+00:00'",
    },
    { useTextProtocol: options.textProtocol ?? false },
  );
  return new PrismaClient({ adapter });
}

/** The client a service's composition root creates from its databaseEnv variables. */
export function createPrismaClientFromEnv(config: DatabaseEnv): PrismaClient {
  return createPrismaClient(config.DATABASE_URL, {
    poolSize: config.DATABASE_POOL_SIZE,
    acquireTimeoutMs: config.DATABASE_ACQUIRE_TIMEOUT_MS,
    socketTimeoutMs: config.DATABASE_SOCKET_TIMEOUT_MS,
  });
}
