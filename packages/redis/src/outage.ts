/**
 * Replies that mean "not now" rather than "wrong": the server is failing over, loading, out of
 * memory or busy with a script. Any other reply error is a bug in the command.
 */
const TRANSIENT_REPLIES = /^(READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|NOREPLICAS|OOM)\b/;

/** What ioredis rejects a command with when it could not reach Redis (its own wording). */
const CONNECTION_FAILURES =
  /^(Connection is closed|Command timed out|Stream isn't writeable|Socket timeout|connect ETIMEDOUT|All sentinels are unreachable|Failed to refresh slots cache)/;
const CONNECTION_ERROR_NAMES = new Set(["MaxRetriesPerRequestError", "ClusterAllFailedError"]);
const SYSTEM_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENOTFOUND",
]);

/**
 * True when an error of any origin says Redis could not be reached or refused for a moment.
 * Unlike isRedisUnavailable, which takes any failure of a Redis call for an outage, this one
 * names only ioredis's own connection errors, so it can sort errors that came from anywhere (an
 * app's last error handler) without taking a bug for an outage.
 */
export function isRedisOutageError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "ReplyError") return TRANSIENT_REPLIES.test(error.message);
  if (CONNECTION_ERROR_NAMES.has(error.name)) return true;
  if (CONNECTION_FAILURES.test(error.message)) return true;
  const { code } = error as { code?: unknown };
  return typeof code === "string" && SYSTEM_CODES.has(code);
}

/**
 * True when a command failed because Redis could not be reached or refused for a moment (a closed
 * connection, retries exhausted, a timeout, a failover reply), so a caller answers 503, not 500.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name !== "ReplyError") return true;
  return TRANSIENT_REPLIES.test(error.message);
}
