import { describe, expect, it } from "vitest";
import { backoffDelay, nextStep } from "./retry-policy.ts";

const policy = { maxAttempts: 3, backoff: { initialMs: 1_000, maxMs: 5_000 } };

describe("backoffDelay", () => {
  it("when failures repeat, then the delay doubles from the initial delay up to the cap", () => {
    const delays = [1, 2, 3, 4, 5].map((failures) => backoffDelay(failures, policy.backoff));

    expect(delays).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it("when failures run into the thousands, then the delay stays at the cap", () => {
    expect(backoffDelay(5_000, policy.backoff)).toBe(5_000);
  });
});

describe("nextStep", () => {
  const now = 1_000_000;

  it("when a record from the main topic is rejected, then it goes to its first retry after the initial delay", () => {
    expect(nextStep(0, policy, now)).toEqual({ action: "retry", attempt: 1, notBefore: now + 1_000 });
  });

  it("when a retry fails before the last one, then the next retry waits twice as long", () => {
    expect(nextStep(2, policy, now)).toEqual({ action: "retry", attempt: 3, notBefore: now + 4_000 });
  });

  it("when the last retry fails, then the record is dead-lettered with its number of retries", () => {
    expect(nextStep(3, policy, now)).toEqual({ action: "dead-letter", attempts: 3 });
  });
});
