// The one place where a `mysql://user:password@host:port/database?connection_limit=N` URL is read.
// The same URL form serves Prisma (through the MariaDB adapter) and dbmate.

export interface DatabaseConnectionConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Empty when the URL names only a server (as DATABASE_SERVER_URL does in tests). */
  database: string;
  /** From the `connection_limit` query parameter, Prisma's name for the pool size. */
  connectionLimit?: number;
}

export function parseDatabaseUrl(databaseUrl: string): DatabaseConnectionConfig {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error("database URL is not a valid URL (expected mysql://user:password@host:port/database)");
  }
  if (url.protocol !== "mysql:" && url.protocol !== "mariadb:") {
    throw new Error(`database URL must start with mysql:// or mariadb://, not ${url.protocol}//`);
  }
  if (!url.hostname) throw new Error("database URL has no host");
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (database.includes("/")) throw new Error(`database URL has an invalid database name: ${database}`);
  const config: DatabaseConnectionConfig = {
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database,
  };
  const limit = url.searchParams.get("connection_limit");
  if (limit !== null) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`database URL has an invalid connection_limit: ${limit}`);
    config.connectionLimit = n;
  }
  return config;
}

/** The URL in the form dbmate expects: mysql://user:password@host:port/database, no extra parameters. */
export function toDbmateUrl(config: DatabaseConnectionConfig): string {
  if (!config.database) throw new Error("dbmate needs a database URL that names a database");
  const user = encodeURIComponent(config.user);
  const auth = config.password ? `${user}:${encodeURIComponent(config.password)}` : user;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return `mysql://${auth}@${host}:${config.port}/${encodeURIComponent(config.database)}`;
}

/** The same URL with another database (or none): used to derive per-test databases from a server URL. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}
