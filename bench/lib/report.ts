// What a run of bench/issue-path.ts found, as data (the JSON file) and as a page (the markdown file).
import type { Audit, FlashSale, LatencySummary, TimelineBin } from "@coupon/loadgen";
import type { UsageReport } from "./processes.ts";

export type Path = "direct" | "edge";
export type Target = "issue" | "baseline" | "bare" | "verify";

export interface PhaseResult {
  title: string;
  target: Target;
  path: Path;
  /** closed: a fixed number of connections, each sending its next request on the answer. */
  loop: "closed" | "open";
  connections?: number;
  durationSec: number;
  sent: number;
  answered: number;
  throughputPerSec: number;
  latency: LatencySummary;
  statuses: Record<string, number>;
  clientErrors: Record<string, number>;
  /** Seconds into the phase at which every distinct user had asked, if that happened. */
  usersExhaustedAfterSec?: number;
  /** Open loop: the furthest any request left after it was due. */
  maxSendLagMs?: number;
  /** wrk's own histogram, a cross-check of the per-request records. */
  wrkLatencyMs?: { p50: number; p95: number; p99: number; max: number; mean: number };
  usage: UsageReport;
  timeline: TimelineBin[];
  sale?: FlashSale;
  audit?: Audit;
}

export interface RedisCeiling {
  requests: number;
  clients: number;
  pipeline: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  usage: UsageReport;
}

export interface Ratios {
  path: Path;
  issuePerSec: number | undefined;
  /** Issue-path throughput over each ceiling's. */
  bare: number | undefined;
  verify: number | undefined;
  redis: number | undefined;
}

export interface Comparison {
  round: number;
  issuePerSec: number;
  baselinePerSec: number;
  /** CPU of each service per answer, in microseconds: less sensitive to the machine's load than throughput. */
  issueCpuUs: number;
  baselineCpuUs: number;
  /** Issue service over baseline, measured back to back. */
  ratio: number;
  issueP99Ms: number;
  baselineP99Ms: number;
}

export interface BenchReport {
  scenario: string;
  label: string | undefined;
  date: string;
  node: string;
  cpu: string;
  cores: number;
  generator: { closedLoop: string; openLoop: string };
  options: Record<string, unknown>;
  phases: PhaseResult[];
  ratios: Ratios[];
  redis: RedisCeiling | undefined;
  comparison: Comparison[];
  /** What the comparison's two sides are called: the issue service and the baseline one. */
  comparisonNames: { subject: string; baseline: string };
}

/** The original's published JMeter result (15,000 users, 20 s ramp-up, one request each, via its gateway). */
export const ORIGINAL = { meanMs: 26, maxMs: 1090, stdDevMs: 28.01, throughputPerSec: 944.41 };

/** Microseconds of one core per answer, from a share of one core (%) and answers per second. */
export const cpuPerAnswerUs = (cpuPercent: number, perSec: number) =>
  perSec > 0 ? (cpuPercent * 1e4) / perSec : 0;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const ms = (n: number) => n.toFixed(n < 10 ? 2 : 1);
const int = (n: number) => Math.round(n).toLocaleString("en-US");
const pct = (n: number | undefined) => (n === undefined ? "–" : `${(n * 100).toFixed(0)} %`);
const table = (head: string[], rows: string[][]) =>
  [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
const outcomes = (p: PhaseResult) =>
  [...Object.entries(p.statuses), ...Object.entries(p.clientErrors)]
    .map(([k, v]) => `${k}: ${int(v)}`)
    .join(", ");

export function renderMarkdown(report: BenchReport): string {
  const out: string[] = [];
  out.push(`# Issue path: ${report.scenario}${report.label ? ` (${report.label})` : ""}`, "");
  out.push(
    `${report.date}, Node ${report.node}, ${report.cpu} (${report.cores} cores). Generator: ${report.generator.closedLoop} (closed loop); ${report.generator.openLoop} (open loop).`,
    "",
  );
  const original = report.phases.filter((p) => p.loop === "open");
  if (original.length > 0) {
    out.push("## The original's plan", "");
    out.push(
      table(
        [
          "",
          "average ms",
          "max ms",
          "std dev ms",
          "throughput req/s",
          "p50 ms",
          "p95 ms",
          "p99 ms",
          "outcomes",
        ],
        [
          [
            "original (JMeter, published)",
            String(ORIGINAL.meanMs),
            int(ORIGINAL.maxMs),
            String(ORIGINAL.stdDevMs),
            String(ORIGINAL.throughputPerSec),
            "–",
            "–",
            "–",
            "–",
          ],
          ...original.map((p) => [
            p.title,
            ms(p.latency.meanMs),
            ms(p.latency.maxMs),
            ms(p.latency.stdDevMs),
            p.throughputPerSec.toFixed(1),
            ms(p.latency.p50Ms),
            ms(p.latency.p95Ms),
            ms(p.latency.p99Ms),
            outcomes(p),
          ]),
        ],
      ),
      "",
      "The arrival schedule sets the throughput here (users / ramp-up); latency counts from when each request was due.",
      "",
    );
  }
  const closed = report.phases.filter((p) => p.loop === "closed");
  if (closed.length > 0) {
    out.push("## Closed loop", "");
    out.push(
      table(
        ["phase", "answers/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "mean ms", "outcomes"],
        closed.map((p) => [
          p.title,
          int(p.throughputPerSec),
          ms(p.latency.p50Ms),
          ms(p.latency.p95Ms),
          ms(p.latency.p99Ms),
          ms(p.latency.maxMs),
          ms(p.latency.meanMs),
          outcomes(p) +
            (p.usersExhaustedAfterSec === undefined
              ? ""
              : ` (users ran out after ${p.usersExhaustedAfterSec.toFixed(1)} s)`),
        ]),
      ),
      "",
    );
  }
  const withRatios = report.ratios.filter((r) => r.bare !== undefined || r.verify !== undefined);
  if (withRatios.length > 0 || report.redis) {
    out.push("## Ceilings", "");
    out.push(
      table(
        ["path", "issue answers/s", "÷ bare Node HTTP", "÷ verify-only", "÷ Redis script (redis-benchmark)"],
        report.ratios.map((r) => [
          r.path,
          r.issuePerSec === undefined ? "–" : int(r.issuePerSec),
          pct(r.bare),
          pct(r.verify),
          pct(r.redis),
        ]),
      ),
      "",
    );
    if (report.redis)
      out.push(
        `redis-benchmark: ${int(report.redis.perSec)} EVALSHA/s (${report.redis.clients} clients, pipeline ${report.redis.pipeline}), p50 ${report.redis.p50Ms} ms, p99 ${report.redis.p99Ms} ms.`,
        "",
      );
  }
  if (report.comparison.length > 0) {
    const ratios = report.comparison.map((c) => c.ratio).sort((a, b) => a - b);
    const { subject, baseline } = report.comparisonNames;
    out.push(`## ${subject} against ${baseline}`, "");
    out.push(
      table(
        [
          "round",
          `${subject} answers/s`,
          `${baseline} answers/s`,
          "ratio",
          `${subject} CPU µs/answer`,
          `${baseline} CPU µs/answer`,
          "CPU ratio",
          `${subject} p99 ms`,
          `${baseline} p99 ms`,
        ],
        report.comparison.map((c) => [
          String(c.round),
          int(c.issuePerSec),
          int(c.baselinePerSec),
          c.ratio.toFixed(3),
          c.issueCpuUs.toFixed(0),
          c.baselineCpuUs.toFixed(0),
          (c.issueCpuUs / c.baselineCpuUs).toFixed(3),
          ms(c.issueP99Ms),
          ms(c.baselineP99Ms),
        ]),
      ),
      "",
      `Median throughput ratio ${median(ratios).toFixed(3)} (from ${(ratios[0] as number).toFixed(3)} to ${(ratios.at(-1) as number).toFixed(3)}); median CPU-per-answer ratio ${median(report.comparison.map((c) => c.issueCpuUs / c.baselineCpuUs)).toFixed(3)}.`,
      "",
    );
    const pooled = (pick: (c: Comparison) => number) =>
      report.comparison.reduce((sum, c) => sum + pick(c), 0);
    out.push(
      `Over all rounds: ${subject} ${int(pooled((c) => c.issuePerSec) / report.comparison.length)} answers/s, ${baseline} ${int(pooled((c) => c.baselinePerSec) / report.comparison.length)} answers/s: ${baseline} ÷ ${subject} = ${(pooled((c) => c.baselinePerSec) / pooled((c) => c.issuePerSec)).toFixed(3)}.`,
      "",
    );
  }
  const phasesWithUsage = report.phases;
  if (phasesWithUsage.length > 0) {
    out.push("## CPU, % of one core while the load ran", "");
    const names = [...new Set(phasesWithUsage.flatMap((p) => p.usage.processes.map((u) => u.name)))];
    out.push(
      table(
        ["process", ...phasesWithUsage.map((p) => p.title)],
        [
          ...names.map((name) => [
            name,
            ...phasesWithUsage.map((p) => {
              const u = p.usage.processes.find((x) => x.name === name);
              return u ? u.cpuPercent.toFixed(0) : "–";
            }),
          ]),
          ["everything else", ...phasesWithUsage.map((p) => p.usage.otherCpuPercent.toFixed(0))],
          [
            "machine",
            ...phasesWithUsage.map(
              (p) => `${p.usage.machineCpuPercent.toFixed(0)} of ${p.usage.cores * 100}`,
            ),
          ],
        ],
      ),
      "",
    );
    out.push("## CPU per answer, microseconds (CPU share ÷ answers per second)", "");
    out.push(
      table(
        ["process", ...phasesWithUsage.map((p) => p.title)],
        names.map((name) => [
          name,
          ...phasesWithUsage.map((p) => {
            const u = p.usage.processes.find((x) => x.name === name);
            return u ? cpuPerAnswerUs(u.cpuPercent, p.throughputPerSec).toFixed(0) : "–";
          }),
        ]),
      ),
      "",
    );
    out.push("## Memory: peak RSS while the load ran (and since the process started), MB", "");
    const services = [
      "issue",
      "baseline issue",
      "issue-consumer",
      "user",
      "coupon",
      "redis",
      "kafka",
      "mariadb",
      "nginx",
    ];
    out.push(
      table(
        ["process", ...phasesWithUsage.map((p) => p.title)],
        services.map((name) => [
          name,
          ...phasesWithUsage.map((p) => {
            const u = p.usage.processes.find((x) => x.name === name);
            return u ? `${u.peakRssMb.toFixed(0)} (${u.lifetimePeakRssMb.toFixed(0)})` : "–";
          }),
        ]),
      ),
      "",
    );
  }
  const audited = report.phases.filter((p) => p.audit);
  if (audited.length > 0) {
    out.push("## Audit against the database, after each phase", "");
    out.push(
      table(
        [
          "phase",
          "stock",
          "201s",
          "rows",
          "over-issued",
          "duplicates",
          "201 without row",
          "row of a request cut off at the end",
          "row without either",
          "drain s",
          "result",
        ],
        audited.map((p) => {
          const a = p.audit as Audit;
          return [
            p.title,
            int(p.sale?.stock ?? 0),
            int(a.issued),
            int(a.rows),
            String(a.overIssued),
            String(a.duplicates),
            String(a.lost),
            String(a.unanswered),
            String(a.unexplained),
            (a.drainMs / 1000).toFixed(1),
            a.ok ? "ok" : "**FAILED**",
          ];
        }),
      ),
      "",
    );
  }
  return `${out.join("\n")}\n`;
}
