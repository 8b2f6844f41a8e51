import { couponKeys, OUTBOX_REGISTRY_KEY } from "@coupon/contracts";
import type { Logger } from "@coupon/logging";
import { isRedisUnavailable, luaScript, type Redis } from "@coupon/redis";
import type { Counter } from "prom-client";
import {
  DependencyUnavailableError,
  type IssuanceOutcome,
  type IssuanceStore,
} from "../domain/issue-coupon.ts";

type IssueScript = (
  termsKey: string,
  issuedKey: string,
  outboxKey: string,
  userId: string,
  eventId: number,
  couponId: number,
  nowMs: number,
  deadlineMs: number,
  requestId: string,
) => Promise<[number, string]>;

export interface RedisIssuanceStoreOptions {
  /**
   * How long after a request reaches the store Redis may still decide it: past this the script
   * refuses (a command queued or re-sent while Redis was unreachable), so nothing is accepted
   * after its request was answered.
   */
  deadlineMs: number;
  /** How much longer than the deadline the reply is waited for: its trip back, and clock skew. */
  replyGraceMs: number;
  logger: Logger;
  /** Acceptances whose reply came after the request had been answered 503. */
  unannounced: Counter;
}

/**
 * Settles with the promise, or rejects with `late()` once `ms` have passed. The timeout is
 * decided a turn of the event loop later (setImmediate runs after the I/O poll), so a reply that
 * already sits in the socket when the timer fires is still read and wins.
 */
function withinMs<T>(promise: Promise<T>, ms: number, late: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (settled) return;
          settled = true;
          reject(late());
        }),
      ms,
    );
    promise.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function toOutcome(code: number, detail: string): IssuanceOutcome | "late" {
  switch (code) {
    case 1:
      return { kind: "issued", issueId: detail };
    case 2:
      return { kind: "duplicate" };
    case 3:
      return { kind: "sold-out" };
    case 4:
      return { kind: "not-open", startsAtMs: Number(detail) };
    case 5:
      return { kind: "closed", endsAtMs: Number(detail) };
    case 6:
      return { kind: "no-terms" };
    case 7:
      return { kind: "other-event" };
    case 8:
      return { kind: "expired", validUntilMs: Number(detail) };
    case 9:
      return "late";
    default:
      throw new Error(`issuance script returned unknown code ${code}`);
  }
}

const noop = () => {};

const unavailable = (message: string, cause?: unknown) =>
  new DependencyUnavailableError("redis", message, cause === undefined ? undefined : { cause });

/**
 * The issuance as one EVALSHA of lua/issue-coupon-3.lua: one Redis round trip decides, records and
 * queues the issuance for Kafka. ioredis loads the script once and reloads it on NOSCRIPT.
 *
 * Bounded: while the connection is down nothing is sent (an immediate 503, and no command left in a
 * queue to run later), and a sent command is waited for until its deadline plus the grace.
 */
export function createRedisIssuanceStore(redis: Redis, options: RedisIssuanceStoreOptions): IssuanceStore {
  redis.defineCommand("issueCoupon", { numberOfKeys: 3, lua: luaScript("issue-coupon-3.lua") });
  const issueCoupon = (redis as unknown as { issueCoupon: IssueScript }).issueCoupon.bind(redis);
  // The relay finds outbox streams through the registry; each coupon is registered once per process.
  const registered = new Map<number, Promise<unknown>>();
  const waitMs = options.deadlineMs + options.replyGraceMs;
  const timedOut = () => unavailable(`Redis did not answer within ${waitMs} ms`);

  function register(couponId: number): Promise<unknown> {
    let registering = registered.get(couponId);
    if (!registering) {
      registering = redis.sadd(OUTBOX_REGISTRY_KEY, String(couponId)).catch((error: unknown) => {
        registered.delete(couponId);
        throw error;
      });
      registered.set(couponId, registering);
    }
    return registering;
  }

  async function decide(attempt: Parameters<IssuanceStore["issue"]>[0]): Promise<[number, string]> {
    await withinMs(register(attempt.couponId), waitMs, timedOut);
    const keys = couponKeys(attempt.couponId);
    const call = issueCoupon(
      keys.terms,
      keys.issued,
      keys.outbox,
      attempt.userId,
      attempt.eventId,
      attempt.couponId,
      attempt.nowMs,
      attempt.nowMs + options.deadlineMs,
      attempt.requestId ?? "",
    );
    let gaveUp = false;
    call.then(([code, issueId]) => {
      // The deadline makes this all but impossible; if it happens, an operator must know of it.
      if (!gaveUp || code !== 1) return;
      options.unannounced.inc();
      options.logger.error(
        { couponId: attempt.couponId, userId: attempt.userId, issueId, requestId: attempt.requestId },
        "issuance accepted after its request was answered 503: the client was not told",
      );
    }, noop);
    return withinMs(call, waitMs, () => {
      gaveUp = true;
      return timedOut();
    });
  }

  return {
    async issue(attempt) {
      if (redis.status !== "ready") throw unavailable(`the Redis connection is ${redis.status}`);
      let reply: [number, string];
      try {
        reply = await decide(attempt);
      } catch (error) {
        if (isRedisUnavailable(error) && !(error instanceof DependencyUnavailableError)) {
          throw unavailable(`Redis failed: ${(error as Error).message}`, error);
        }
        throw error;
      }
      const outcome = toOutcome(reply[0], reply[1]);
      if (outcome === "late") throw unavailable("Redis ran the issuance after its deadline");
      return outcome;
    },
  };
}
