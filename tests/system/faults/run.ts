// The fault suite: the whole system on an instance of its own (MariaDB and Kafka from the infra
// scripts, Redis as a master, a replica and three Sentinels, the four services behind the nginx
// edge), and for each case a paced race of distinct users with one fault injected; then every
// failed request is retried once, the pipeline drains, and the answers are judged against the rows
// in MariaDB, the acceptances in Redis and reconcile's verdict. Writes report.md and report.json.
//
//   node tests/system/faults/run.ts [--case NAME]... [--out DIR] [--scale F]
//
// --scale multiplies every duration and user count (0.2 for a quick look). Exit status 0 when no
// case over-issued, duplicated or lost outside the measured failover, 2 otherwise.
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs, promisify } from "node:util";
import { mintTokens } from "@coupon/loadgen";
import { repoRoot } from "@coupon/testing";
import { type FaultCase, faultCases } from "./cases.ts";
import { type CaseOutcome, judge, renderMarkdown } from "./outcome.ts";
import { FIRST_USER_ID, startFaultSystem } from "./system.ts";

const { values } = parseArgs({
  options: {
    case: { type: "string", multiple: true },
    out: { type: "string", default: resolve(repoRoot, ".local/faults") },
    scale: { type: "string", default: "1" },
  },
});
const scale = Number(values.scale);
if (!(scale > 0)) throw new Error(`--scale must be a positive number, not ${values.scale}`);
const known = new Map(faultCases(scale).map((c) => [c.name, c]));
const selected: FaultCase[] = (values.case ?? [...known.keys()]).map((name) => {
  const found = known.get(name);
  if (!found) throw new Error(`no case ${name}; the cases are ${[...known.keys()].join(", ")}`);
  return found;
});

const log = (message: string) => process.stderr.write(`[faults] ${message}\n`);
const system = await startFaultSystem(log);
const outcomes: CaseOutcome[] = [];
try {
  // One more than the largest race: the extra user warms each coupon's terms up before its race.
  const users = Math.max(...selected.map((c) => c.users)) + 1;
  log(`minting ${users} tokens`);
  const tokens = await mintTokens(
    {
      privateKeyPem: system.privateKeyPem,
      issuer: "coupon-user-service",
      audience: "coupon-platform",
      firstUserId: FIRST_USER_ID,
      count: users,
      expiresInSec: 3_600,
    },
    { cacheDir: resolve(values.out, "tokens") },
  );
  for (const faultCase of selected) {
    log(
      `case ${faultCase.name}: ${faultCase.users} users at ${faultCase.ratePerSec}/s, stock ${faultCase.stock}`,
    );
    const observation = await system.runCase(faultCase, tokens);
    const outcome = judge(observation);
    outcomes.push(outcome);
    log(
      `case ${faultCase.name}: ${outcome.created} created, ${outcome.rows} rows, lost ${outcome.lost}, over-issue ${outcome.overIssue}, duplicates ${outcome.duplicates}`,
    );
  }
} finally {
  await system.stop();
}

const { stdout: commit } = await promisify(execFile)("git", ["rev-parse", "--short", "HEAD"], {
  cwd: repoRoot,
}).catch(() => ({ stdout: "unknown" }));
const context = `Run ${new Date().toISOString()} at commit ${commit.trim()} on ${cpus().length} cores (scale ${scale}). Redis: a master, a replica and three Sentinels (down-after 5 s); the services reach it through Sentinel and are reached through the nginx edge. Each request is one distinct user; a request whose first answer was an error (5xx, 429 or none) is sent once more after the fault healed.`;
await mkdir(values.out, { recursive: true });
const markdown = renderMarkdown(outcomes, context);
await writeFile(join(values.out, "report.md"), markdown);
await writeFile(join(values.out, "report.json"), `${JSON.stringify({ context, outcomes }, null, 2)}\n`);
process.stdout.write(markdown);
log(`report: ${join(values.out, "report.md")} and report.json`);

const failed = outcomes.filter(
  (o) =>
    o.overIssue > 0 ||
    o.duplicates > 0 ||
    o.neverTold > 0 ||
    (o.lost > 0 && !o.name.startsWith("redis-failover-unacked")),
);
if (failed.length > 0) {
  log(`broken invariants in: ${failed.map((o) => o.name).join(", ")}`);
  process.exitCode = 2;
}
