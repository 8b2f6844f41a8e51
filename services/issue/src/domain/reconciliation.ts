/** What one coupon looks like in each store, as the reconciliation command gathers it. */
export interface CouponState {
  couponId: number;
  stock: number;
  /** Users the issuance script accepted (the Redis set). */
  acceptedUsers: readonly string[];
  /** Accepted users still in the outbox stream, on their way to Kafka and the database. */
  inFlightUsers: readonly string[];
  /** Users with a coupon_issues row. */
  persistedUsers: readonly string[];
  /** Users Redis accepted after their request had been answered 503 (the `unannounced` set). */
  unannouncedUsers: readonly string[];
}

export interface ReconciliationReport {
  couponId: number;
  stock: number;
  accepted: number;
  persisted: number;
  inFlight: number;
  /** Accepted, not in flight, and without a row: lost on the way unless re-emitted. */
  missingInDatabase: string[];
  /** Rows for users Redis never accepted: a row without a 201. */
  unknownToRedis: string[];
  overIssued: number;
  /** Accepted users who were answered 503 instead of 201: they hold a coupon they were not told of. */
  unannounced: string[];
  consistent: boolean;
}

export function reconcile(state: CouponState): ReconciliationReport {
  const persisted = new Set(state.persistedUsers);
  const accepted = new Set(state.acceptedUsers);
  const inFlight = new Set(state.inFlightUsers);
  const missingInDatabase = [...accepted].filter((u) => !persisted.has(u) && !inFlight.has(u)).sort();
  const unknownToRedis = [...persisted].filter((u) => !accepted.has(u)).sort();
  const overIssued = Math.max(0, accepted.size - state.stock, persisted.size - state.stock);
  const unannounced = [...new Set(state.unannouncedUsers)].filter((u) => accepted.has(u)).sort();
  return {
    couponId: state.couponId,
    stock: state.stock,
    accepted: accepted.size,
    persisted: persisted.size,
    inFlight: inFlight.size,
    missingInDatabase,
    unknownToRedis,
    overIssued,
    unannounced,
    consistent:
      missingInDatabase.length === 0 &&
      unknownToRedis.length === 0 &&
      overIssued === 0 &&
      unannounced.length === 0,
  };
}
