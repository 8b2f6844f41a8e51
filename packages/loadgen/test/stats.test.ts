import { describe, expect, it } from "vitest";
import { countBy, percentile, summarize } from "../src/stats.ts";

describe("summarize", () => {
  it("when given latencies, then nearest-rank percentiles, mean, deviation and max follow", () => {
    const latencies = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarize(latencies)).toEqual({
      count: 100,
      meanMs: 50.5,
      stdDevMs: expect.closeTo(28.866, 3),
      p50Ms: 50,
      p95Ms: 95,
      p99Ms: 99,
      maxMs: 100,
    });
  });

  it("when empty, then zeros instead of NaN", () => {
    expect(summarize([])).toMatchObject({ count: 0, meanMs: 0, p99Ms: 0, maxMs: 0 });
    expect(percentile([], 50)).toBe(0);
  });

  it("when counting by key, then every key is tallied", () => {
    expect(countBy(["a", "b", "a"], (x) => x)).toEqual({ a: 2, b: 1 });
  });
});
