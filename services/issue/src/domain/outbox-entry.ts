import { type CouponIssued, couponIssuedSchema } from "@coupon/contracts";

/**
 * Turns an outbox stream entry (written by lua/issue-coupon-3.lua as field/value pairs) into the
 * coupon.issued record, with the request's id and trace context; undefined if the entry is not one
 * the script writes.
 */
export function toCouponIssued(
  entryId: string,
  fields: readonly string[],
): { record: CouponIssued; requestId: string | undefined; traceparent: string | undefined } | undefined {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i] as string, fields[i + 1] as string);
  const issuedAtMs = Number(values.get("issuedAt"));
  if (!Number.isFinite(issuedAtMs)) return undefined;
  const parsed = couponIssuedSchema.safeParse({
    issueId: entryId,
    couponId: Number(values.get("couponId")),
    eventId: Number(values.get("eventId")),
    userId: values.get("userId"),
    issuedAt: new Date(issuedAtMs).toISOString(),
  });
  if (!parsed.success) return undefined;
  return {
    record: parsed.data,
    requestId: values.get("requestId") || undefined,
    traceparent: values.get("traceparent") || undefined,
  };
}
