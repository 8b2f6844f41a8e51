/** What the atomic issuance step decided. Times are epoch milliseconds. */
export type IssuanceOutcome =
  | { kind: "issued"; issueId: string }
  | { kind: "duplicate" }
  | { kind: "sold-out" }
  | { kind: "not-open"; startsAtMs: number }
  | { kind: "closed"; endsAtMs: number }
  | { kind: "expired"; validUntilMs: number }
  | { kind: "other-event" }
  /** Redis does not hold the coupon's terms yet (a coupon never issued from, or Redis lost them). */
  | { kind: "no-terms" };

export interface IssuanceAttempt {
  couponId: number;
  eventId: number;
  userId: string;
  nowMs: number;
  requestId?: string;
}

/**
 * Decides and records an issuance atomically against the terms in force (event, window, validity,
 * stock), the duplicate check and the outbox entry.
 */
export interface IssuanceStore {
  issue(attempt: IssuanceAttempt): Promise<IssuanceOutcome>;
}

/** Brings a coupon's terms from its owner into the issuance store; false when there is no such coupon. */
export interface CouponTermsLoader {
  load(couponId: number): Promise<boolean>;
}

/**
 * A dependency did not answer in time or refused for a moment: nothing was decided, or at least
 * nothing the client will be told was accepted. Answered with 503 and Retry-After.
 */
export class DependencyUnavailableError extends Error {
  override name = "DependencyUnavailableError";
  readonly dependency: "redis" | "coupon-service";

  constructor(dependency: "redis" | "coupon-service", message: string, options?: ErrorOptions) {
    super(message, options);
    this.dependency = dependency;
  }
}

/**
 * The issuance may have been accepted: Redis ran the script but no replica confirmed it within the
 * wait the operator asked for (ISSUE_REPLICA_ACK_MS), so a failover could lose it; or the command
 * was sent and its answer never came (a timeout, a connection closed under it). The client is told
 * exactly that (503, "unconfirmed", not "nothing was issued"); sending the request again tells
 * which: 409 COUPON_ALREADY_ISSUED_BY_USER if it stood.
 */
export class IssuanceUnconfirmedError extends DependencyUnavailableError {
  override name = "IssuanceUnconfirmedError";

  constructor(message: string) {
    super("redis", message);
  }
}

export type IssueResult =
  | (Exclude<IssuanceOutcome, { kind: "no-terms" }> & { issuedAt: Date })
  | { kind: "coupon-not-found" };

export interface IssueCouponCommand {
  userId: string;
  eventId: number;
  couponId: number;
  requestId?: string;
}

export interface IssueCouponDeps {
  store: IssuanceStore;
  terms: CouponTermsLoader;
  now: () => number;
}

export type IssueCoupon = (command: IssueCouponCommand) => Promise<IssueResult>;

/**
 * One round trip to the store decides in the common case; only a coupon whose terms Redis does
 * not hold yet costs a load from the coupon service first. Once loaded, the terms stay in Redis,
 * so issuance goes on while the coupon service or its database is down.
 */
export function createIssueCoupon({ store, terms, now }: IssueCouponDeps): IssueCoupon {
  return async ({ userId, eventId, couponId, requestId }) => {
    const attempt = () => {
      const nowMs = now();
      return store
        .issue({ couponId, eventId, userId, nowMs, requestId })
        .then((outcome) => ({ outcome, nowMs }));
    };
    let { outcome, nowMs } = await attempt();
    if (outcome.kind === "no-terms") {
      if (!(await terms.load(couponId))) return { kind: "coupon-not-found" };
      ({ outcome, nowMs } = await attempt());
      if (outcome.kind === "no-terms") {
        throw new DependencyUnavailableError(
          "redis",
          `the terms of coupon ${couponId} vanished right after loading`,
        );
      }
    }
    return { ...outcome, issuedAt: new Date(nowMs) };
  };
}
