import { type CouponIssued, couponIssuedSchema } from "@coupon/contracts";

/** A record read from Kafka, as text: what the domain needs of it, without kafkajs. */
export interface RawRecord {
  key: string | undefined;
  value: string | undefined;
}

export type Classification = { ok: true; issuance: CouponIssued } | { ok: false; reason: string };

// DATETIME(3) holds years 1000 to 9999; INSERT IGNORE would store anything else as a different date.
const MIN_ISSUED_AT = Date.UTC(1000, 0, 1);

/**
 * Decides whether a `coupon.issued` record can be persisted. A record that cannot (no value, not
 * JSON, not a CouponIssued, a key that is not its coupon id, values the table cannot hold) is
 * poison: no retry will ever change that, so it goes to the dead-letter topic at once.
 */
export function classifyRecord(record: RawRecord): Classification {
  if (record.value === undefined || record.value.length === 0) return poison("the record has no value");
  let json: unknown;
  try {
    json = JSON.parse(record.value);
  } catch (error) {
    return poison(`the value is not JSON: ${(error as Error).message}`);
  }
  const parsed = couponIssuedSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(value)"}: ${i.message}`);
    return poison(`the value is not a CouponIssued: ${issues.join("; ")}`);
  }
  const issuance = parsed.data;
  if (record.key !== String(issuance.couponId)) {
    const key = record.key === undefined ? "no key" : `key ${JSON.stringify(record.key)}`;
    return poison(`the record has ${key}, expected the coupon id "${issuance.couponId}"`);
  }
  if (Date.parse(issuance.issuedAt) < MIN_ISSUED_AT) {
    return poison(`issuedAt ${issuance.issuedAt} is before the year 1000, which DATETIME cannot hold`);
  }
  return { ok: true, issuance };
}

function poison(reason: string): Classification {
  return { ok: false, reason };
}
