import { describe, expect, it } from "vitest";
import { countBy, percentile, summarize, timeline } from "../src/stats.ts";

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

describe("timeline", () => {
  it("when answers arrive over time, then each bin has its rate and percentiles, and empty bins stay", () => {
    const doneAtMs = [10, 20, 30, 40, 1_600, 1_700];
    const latencyMs = [1, 2, 3, 4, 9, 7];
    const bins = timeline(doneAtMs, latencyMs, 500, 1_800);
    expect(bins.map((b) => b.atMs)).toEqual([0, 500, 1_000, 1_500]);
    expect(bins[0]).toMatchObject({ perSec: 8, p50Ms: 2, p99Ms: 4, maxMs: 4 });
    expect(bins[1]).toMatchObject({ perSec: 0, p99Ms: 0 });
    // The last bin is 300 ms long: two answers in it are 6.7 per second, not 4.
    expect(bins[3]?.perSec).toBeCloseTo(6.67, 2);
  });
});
