import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { resolveBinary } from "dbmate";
import { parseDatabaseUrl, toDbmateUrl } from "./database-url.ts";

const execFileAsync = promisify(execFile);

/** The SQL migrations of this package (dbmate format: `-- migrate:up` / `-- migrate:down`). */
export const migrationsDir = path.resolve(import.meta.dirname, "..", "migrations");

export interface MigrateOptions {
  /** How long dbmate waits for the database to accept connections; 0 (the default) does not wait. */
  waitTimeoutSeconds?: number;
}

/**
 * Applies every pending migration to the database named in the URL (creating the database when it
 * does not exist), with the dbmate binary that this package depends on. No schema dump is written.
 */
export async function migrateDatabase(databaseUrl: string, options: MigrateOptions = {}): Promise<void> {
  const url = toDbmateUrl(parseDatabaseUrl(databaseUrl));
  const args = ["--migrations-dir", migrationsDir, "--no-dump-schema"];
  if (options.waitTimeoutSeconds) args.push("--wait", "--wait-timeout", `${options.waitTimeoutSeconds}s`);
  args.push("up");
  try {
    // The URL goes through the environment, not argv, so the password does not show in `ps`.
    await execFileAsync(resolveBinary(), args, {
      env: { ...process.env, DATABASE_URL: url },
      // dbmate reads .env from the working directory: run it where there is none to surprise us.
      cwd: migrationsDir,
    });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    const output = `${stdout}${stderr}`.trim();
    throw new Error(`dbmate up failed for ${redact(url)}: ${output || (error as Error).message}`, {
      cause: error,
    });
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@]*@/, "//$1:***@");
}
