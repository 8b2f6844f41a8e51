const DECIMAL = /^[1-9][0-9]{0,18}$/;
const BIGINT_MAX = 9_223_372_036_854_775_807n;

/** A user id as tokens and records carry it: a positive decimal that fits the database's BIGINT. */
export function isUserId(value: unknown): value is string {
  return typeof value === "string" && DECIMAL.test(value) && BigInt(value) <= BIGINT_MAX;
}
