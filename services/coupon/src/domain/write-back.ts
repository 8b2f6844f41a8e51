import type { Logger } from "@coupon/logging";
import type { CouponRepository, IssuedCounter, Lease, WriteBackCandidate } from "./ports.ts";

export interface WriteBackJobOptions {
  lease: Lease;
  repository: Pick<CouponRepository, "writeBackCandidates" | "raiseIssuedQuantity">;
  issued: IssuedCounter;
  /** Pause between the end of one round and the start of the next. */
  intervalMs: number;
  /** How long after its event has ended a coupon is still written back, to catch the last issuances. */
  graceMs: number;
  logger: Logger;
  /** Called after every round this instance wrote in (it held the lease), at its start time. */
  succeeded?: (at: Date) => void;
  now?: () => Date;
}

export interface WriteBackJob {
  /** One round; true when this instance held the lease and so was the one to write. */
  runOnce(): Promise<boolean>;
  start(): void;
  /** Waits for a running round, then gives the lease up so another replica takes over at once. */
  stop(): Promise<void>;
}

/**
 * The issued counts to store: only those above what is stored (the column never decreases) and
 * none above the stock (the column's check constraint, and the truth: no more were handed out).
 */
export function planWriteBack(
  candidates: readonly WriteBackCandidate[],
  counts: readonly number[],
): { couponId: number; issued: number }[] {
  return candidates.flatMap((candidate, i) => {
    const issued = Math.min(counts[i] ?? 0, candidate.maxQuantity);
    return issued > candidate.issuedQuantity ? [{ couponId: candidate.couponId, issued }] : [];
  });
}

/**
 * Write-back of issued counts from Redis to coupons.issued_quantity. Every replica runs the job;
 * a Redis lease lets one of them write per round. The lease is about load, not correctness: if two
 * ever wrote at once (a round outliving the lease), the monotonic, capped update makes that harmless.
 */
export function createWriteBackJob(options: WriteBackJobOptions): WriteBackJob {
  const { lease, repository, issued, logger } = options;
  const now = options.now ?? (() => new Date());
  let leading = false;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;

  async function runOnce(): Promise<boolean> {
    const held = await lease.hold();
    if (held !== leading) {
      logger.info({ leading: held }, held ? "write-back lease taken" : "write-back lease lost");
      leading = held;
    }
    if (!held) return false;
    const at = now();
    const candidates = await repository.writeBackCandidates(at, new Date(at.getTime() - options.graceMs));
    const counts = await issued.counts(candidates.map((candidate) => candidate.couponId));
    let updated = 0;
    for (const { couponId, issued: count } of planWriteBack(candidates, counts)) {
      if (await repository.raiseIssuedQuantity(couponId, count)) updated++;
    }
    if (updated > 0)
      logger.info({ updated, candidates: candidates.length }, "issued quantities written back");
    options.succeeded?.(at);
    return true;
  }

  function loop(): void {
    round = runOnce()
      .then(
        () => undefined,
        (error: unknown) => logger.error({ err: error }, "write-back round failed"),
      )
      .finally(() => {
        round = undefined;
        if (!running) return;
        timer = setTimeout(loop, options.intervalMs);
        timer.unref();
      });
  }

  return {
    runOnce,
    start() {
      running = true;
      loop();
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await round;
      try {
        await lease.release();
      } catch (error) {
        logger.warn({ err: error }, "write-back lease not released; it expires on its own");
      }
      leading = false;
    },
  };
}
