/** Exponential backoff: `initialMs`, doubled per further failure, never above `maxMs`. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/** Delay before the next try after `failures` consecutive failures (1 → initialMs). */
export function backoffDelay(failures: number, backoff: Backoff): number {
  const exponent = Math.max(0, failures - 1);
  // 2 ** 31 already exceeds any sensible cap; stopping there keeps the product finite.
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(exponent, 31));
}

export interface RetryPolicy {
  /** How many times a rejected record goes through the retry topic before it is parked. */
  maxAttempts: number;
  backoff: Backoff;
}

export type NextStep =
  | { action: "retry"; attempt: number; notBefore: number }
  | { action: "dead-letter"; attempts: number };

/**
 * What to do with a record the store rejected. `attempts` is how many retries it has already
 * been through (0 for a record read from the main topic).
 */
export function nextStep(attempts: number, policy: RetryPolicy, now: number): NextStep {
  if (attempts >= policy.maxAttempts) return { action: "dead-letter", attempts };
  const attempt = attempts + 1;
  return { action: "retry", attempt, notBefore: now + backoffDelay(attempt, policy.backoff) };
}
