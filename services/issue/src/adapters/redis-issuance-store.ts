import { couponKeys, OUTBOX_REGISTRY_KEY } from "@coupon/contracts";
import type { Logger } from "@coupon/logging";
import {
  isCluster,
  isRedisOutageError,
  isRedisUnavailable,
  luaScript,
  type Redis,
  type RedisServer,
} from "@coupon/redis";
import { context, propagation } from "@opentelemetry/api";
import type { Counter } from "prom-client";
import {
  DependencyUnavailableError,
  type IssuanceOutcome,
  type IssuanceStore,
  IssuanceUnconfirmedError,
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
  traceparent: string,
) => Promise<[number, string]>;

/** The active span's context as a W3C traceparent, "" when nothing is traced (no SDK running). */
function traceparentOfActiveSpan(): string {
  const carrier: { traceparent?: string } = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? "";
}

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
  /**
   * 0: answer as soon as the master decided (a failover may lose the last acceptances, which
   * replication had not carried yet). Above 0: an acceptance is answered 201 only once a replica
   * holds it (WAIT 1 <ms>); one not confirmed within that time is answered 503 unconfirmed.
   */
  replicaAckMs: number;
  /** Acceptances answered 503 unconfirmed because no replica confirmed them in time. */
  unconfirmed: Counter;
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

/** Where a command was sent on the connection, and on which of its successive TCP connections it was answered. */
interface Sent {
  seq: number;
  connection: number;
}

/**
 * WAIT 1 <ms> after the issuance script, on the connection that ran it: WAIT counts the replicas
 * that acknowledged every write this connection made before it, so one WAIT sent after many
 * scripts confirms them all, and concurrent issuances share it instead of each blocking the
 * connection in turn. A WAIT answered on another TCP connection than the script (ioredis
 * reconnected, perhaps to a newly promoted master) proves nothing and counts as not confirmed.
 */
function replicaAcknowledgements(redis: RedisServer, ackMs: number, graceMs: number) {
  let sent = 0;
  let connection = 0;
  redis.on("close", () => connection++);
  let last: (Sent & { acked: Promise<boolean> }) | undefined;
  return {
    /** Called as the script is sent. */
    send: (): number => ++sent,
    /** The connection a reply arrived on. */
    connection: () => connection,
    /** True once a replica holds the writes of the script sent at `script.seq` and answered on `script.connection`. */
    confirmed(script: Sent): Promise<boolean> {
      if (!last || last.seq < script.seq || last.connection !== script.connection) {
        const wait: Sent = { seq: ++sent, connection };
        const acked = withinMs(redis.wait(1, ackMs), ackMs + graceMs, () => new Error("WAIT timed out")).then(
          (replicas) => replicas >= 1 && connection === wait.connection,
          () => false,
        );
        last = { ...wait, acked };
      }
      return last.acked;
    },
  };
}

/**
 * The issuance as one EVALSHA of lua/issue-coupon-3.lua: one Redis round trip decides, records and
 * queues the issuance for Kafka. ioredis loads the script once and reloads it on NOSCRIPT.
 *
 * Bounded: while the connection is down nothing is sent (an immediate 503, and no command left in a
 * queue to run later), and a sent command is waited for until its deadline plus the grace. With
 * replicaAckMs, the WAIT that follows an acceptance is bounded the same way.
 */
export function createRedisIssuanceStore(redis: Redis, options: RedisIssuanceStoreOptions): IssuanceStore {
  if (options.replicaAckMs > 0 && isCluster(redis)) {
    // WAIT names no key: the cluster client would send it to any master, not the one that decided.
    throw new Error(
      "waiting for a replica's acknowledgement needs one master (REDIS_URL or REDIS_SENTINELS)",
    );
  }
  const acks =
    options.replicaAckMs > 0 && !isCluster(redis)
      ? replicaAcknowledgements(redis, options.replicaAckMs, options.replyGraceMs)
      : undefined;
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

  async function decide(
    attempt: Parameters<IssuanceStore["issue"]>[0],
  ): Promise<{ reply: [number, string]; sent: Sent | undefined }> {
    await withinMs(register(attempt.couponId), waitMs, timedOut);
    const keys = couponKeys(attempt.couponId);
    const seq = acks?.send();
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
      traceparentOfActiveSpan(),
    );
    let gaveUp = false;
    call.then(([code, issueId]) => {
      // The deadline makes this all but impossible; if it happens, an operator must know of it,
      // and reconcile lists the user (the `unannounced` set) until it is looked into.
      if (!gaveUp || code !== 1) return;
      options.unannounced.inc();
      options.logger.error(
        { couponId: attempt.couponId, userId: attempt.userId, issueId, requestId: attempt.requestId },
        "issuance accepted after its request was answered 503: the client was told only that it may have been",
      );
      redis.sadd(keys.unannounced, attempt.userId).catch(noop);
    }, noop);
    let reply: [number, string];
    try {
      reply = await withinMs(call, waitMs, () => {
        gaveUp = true;
        return timedOut();
      });
    } catch (error) {
      // A reply error such as READONLY or NOREPLICAS refused the script before it ran; but once the
      // command is out, a closed connection or a timeout says nothing of whether Redis ran it.
      const refusedBeforeRunning = error instanceof Error && error.name === "ReplyError";
      if (
        !refusedBeforeRunning &&
        (error instanceof DependencyUnavailableError || isRedisOutageError(error))
      ) {
        throw new IssuanceUnconfirmedError(
          `the answer to the issuance was lost: ${(error as Error).message}`,
        );
      }
      throw error;
    }
    return { reply, sent: acks && seq !== undefined ? { seq, connection: acks.connection() } : undefined };
  }

  async function confirm(attempt: Parameters<IssuanceStore["issue"]>[0], sent: Sent, issueId: string) {
    if (await acks?.confirmed(sent)) return;
    options.unconfirmed.inc();
    options.logger.warn(
      { couponId: attempt.couponId, userId: attempt.userId, issueId, requestId: attempt.requestId },
      "issuance not confirmed by a replica in time: answered 503, the acceptance may stand or be lost in a failover",
    );
    throw new IssuanceUnconfirmedError(`no replica confirmed the issuance within ${options.replicaAckMs} ms`);
  }

  return {
    async issue(attempt) {
      if (redis.status !== "ready") throw unavailable(`the Redis connection is ${redis.status}`);
      let decided: Awaited<ReturnType<typeof decide>>;
      try {
        decided = await decide(attempt);
      } catch (error) {
        if (error instanceof IssuanceUnconfirmedError) throw error;
        if (isRedisUnavailable(error) && !(error instanceof DependencyUnavailableError)) {
          throw unavailable(`Redis failed: ${(error as Error).message}`, error);
        }
        throw error;
      }
      const { reply, sent } = decided;
      const outcome = toOutcome(reply[0], reply[1]);
      if (outcome === "late") throw unavailable("Redis ran the issuance after its deadline");
      if (sent && outcome.kind === "issued") await confirm(attempt, sent, outcome.issueId);
      return outcome;
    },
  };
}
