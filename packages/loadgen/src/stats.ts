export interface LatencySummary {
  count: number;
  meanMs: number;
  stdDevMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function summarize(latenciesMs: ArrayLike<number>): LatencySummary {
  // A typed array sorts numerically, and fast: runs have hundreds of thousands of latencies.
  const sorted = Float64Array.from(latenciesMs).sort();
  const count = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = count === 0 ? 0 : sum / count;
  let squares = 0;
  for (const v of sorted) squares += (v - mean) ** 2;
  return {
    count,
    meanMs: mean,
    stdDevMs: count === 0 ? 0 : Math.sqrt(squares / count),
    p50Ms: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? 0,
  };
}

export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

export interface TimelineBin {
  /** Start of the bin, in milliseconds since the run started. */
  atMs: number;
  /** Answers that arrived in the bin, per second. */
  perSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Throughput and latency percentiles over time: answers are put in the bin in which they arrived.
 * Bins run from 0 to `untilMs`, empty ones included, so a stall shows as a gap.
 */
export function timeline(
  doneAtMs: ArrayLike<number>,
  latencyMs: ArrayLike<number>,
  binMs: number,
  untilMs: number,
): TimelineBin[] {
  const bins: number[][] = Array.from({ length: Math.max(1, Math.ceil(untilMs / binMs)) }, () => []);
  for (let i = 0; i < doneAtMs.length; i++) {
    const bin = Math.floor((doneAtMs[i] as number) / binMs);
    if (bin >= 0 && bin < bins.length) bins[bin]?.push(latencyMs[i] as number);
  }
  return bins.map((latencies, i) => {
    const summary = summarize(latencies);
    // The last bin may be cut short by the end of the run.
    const lengthMs = Math.min(binMs, untilMs - i * binMs);
    return {
      atMs: i * binMs,
      perSec: lengthMs > 0 ? (latencies.length * 1000) / lengthMs : 0,
      p50Ms: summary.p50Ms,
      p95Ms: summary.p95Ms,
      p99Ms: summary.p99Ms,
      maxMs: summary.maxMs,
    };
  });
}
