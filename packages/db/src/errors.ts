import { Prisma } from "./generated/client.ts";

/** Kinds of the Prisma driver adapter's mapped errors that say nothing about the rows written. */
const UNAVAILABLE_KINDS = new Set([
  "DatabaseNotReachable",
  "DatabaseDoesNotExist",
  "DatabaseAccessDenied",
  "AuthenticationFailed",
  "ConnectionClosed",
  "TlsConnectionError",
  "SocketTimeout",
  "TooManyConnections",
  "TransactionWriteConflict",
  "TransactionAlreadyClosed",
  // A missing table or column is a deployment out of step with the migrations: every row would
  // fail, and parking them all would only hide it.
  "TableDoesNotExist",
  "ColumnNotFound",
]);

/** MariaDB error numbers (server 1xxx/4xxx, Node connector 45xxx) that are about the connection, not the rows. */
const UNAVAILABLE_ERRNOS = new Set([
  1053, // server shutdown in progress
  1142, // INSERT command denied (a revoked grant)
  1152, // aborted connection
  1158, // network read error
  1159, // network read timeout
  1160, // network write error
  1161, // network write timeout
  1205, // lock wait timeout
  1290, // --read-only (e.g. a replica during fail-over)
  1792, // read-only transaction
  1836, // read-only mode
  1927, // connection killed
  1969, // max_statement_time exceeded
  4031, // disconnected for inactivity
  45001, // connection already closed
  45004, // connection destroyed
  45009, // socket closed unexpectedly
  45012, // connection timeout
  45013, // connection closed
  45019, // socket error
  45026, // socket timeout
  45027, // pool closed (shutting down)
  45028, // no connection from the pool in time (refused, unreachable, exhausted)
  45035, // pool closed while adding a connection
  45037, // pool closing
  45039, // initial connection timeout
  45042, // ping timeout
  45060, // pool not initialised
  45061, // pool has no connection
]);

const UNAVAILABLE_PRISMA_CODES = new Set([
  "P1000",
  "P1001",
  "P1002",
  "P1003",
  "P1008",
  "P1010",
  "P1011",
  "P1017",
  "P2024",
  "P2034",
  "P2037",
]);

const UNAVAILABLE_SYSTEM_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

interface MappedDriverError {
  kind?: string;
  code?: number;
  message?: string;
  cause?: string;
}

/** True when the error is about reaching or using the database at all, rather than about the rows sent. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError && UNAVAILABLE_PRISMA_CODES.has(error.code)) {
    return true;
  }
  const mapped = driverError(error);
  if (mapped?.kind !== undefined && UNAVAILABLE_KINDS.has(mapped.kind)) return true;
  if (mapped?.kind === "mysql" && mapped.code !== undefined && UNAVAILABLE_ERRNOS.has(mapped.code))
    return true;
  // Errors that escaped the adapter's mapping: a raw connector or socket error somewhere in the causes.
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    const { code, errno } = cause as { code?: unknown; errno?: unknown };
    if (typeof code === "string" && UNAVAILABLE_SYSTEM_CODES.has(code)) return true;
    if (typeof errno === "number" && UNAVAILABLE_ERRNOS.has(errno)) return true;
  }
  return false;
}

/** One line that says what the database said, e.g. "mysql 1644: user 666 is rejected". */
export function describeDatabaseError(error: unknown): string {
  const mapped = driverError(error);
  if (mapped?.kind !== undefined) {
    const code = mapped.code === undefined ? "" : ` ${mapped.code}`;
    const message = mapped.message ?? mapped.cause ?? "";
    const cause = mapped.message !== undefined && mapped.cause !== undefined ? ` (${mapped.cause})` : "";
    return `${mapped.kind}${code}: ${message}${cause}`.replace(/\s+/g, " ").trim();
  }
  const message = error instanceof Error ? error.message : String(error);
  // Prisma opens its messages with the invocation ("Invalid `prisma.x()` invocation:"); the reason comes last.
  return message.trim().split("\n").filter(Boolean).at(-1) ?? message;
}

function driverError(error: unknown): MappedDriverError | undefined {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return undefined;
  const adapterError = (error.meta as { driverAdapterError?: { cause?: MappedDriverError } } | undefined)
    ?.driverAdapterError;
  return adapterError?.cause;
}
