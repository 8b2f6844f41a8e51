// The issue path under load on the local system (./dev up), in three scenarios, each also audited
// against the database afterwards:
//   original    the original's JMeter plan: 15,000 users arriving over 20 s, one request each
//   saturation  a closed loop of distinct users for 30 s, with the CPU share of every process
//   ceiling     with the same generator in the same run: a bare Node HTTP server, a server that only
//               verifies the JWT, and redis-benchmark running the issuance script, next to the issue path
//   all         the three in one run (the ceilings are then compared with the saturation phases)
//   compare     the issue service against a baseline one (bench/baseline.sh) in alternating rounds of
//               the closed loop, straight to each: the before/after ratio of an optimisation; with
//               --as telemetry the baseline is the same code exporting spans (bench/telemetry.sh)
// Each runs straight to the issue service and through the edge. Results: bench/results/issue-path-
// <scenario>[-<label>].json, .md and .svg.
//   bench/issue-path.sh <scenario> [--paths direct,edge] [--connections 100] [--duration 30] …
// (bench/README.md lists the options; the wrapper sets the environment for the local system.)
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs, promisify } from "node:util";
import { env, loadConfig, z } from "@coupon/config";
import { createPrismaClient } from "@coupon/db";
import {
  auditIssuance,
  type FlashSale,
  fireOpenLoop,
  mintTokens,
  openFlashSale,
  runWrk,
  summarize,
  timeline,
  type WrkUser,
} from "@coupon/loadgen";
import { type ChartPhase, renderChart } from "./lib/chart.ts";
import { childPids, pidFromFile, watchProcesses } from "./lib/processes.ts";
import {
  type BenchReport,
  type Comparison,
  cpuPerAnswerUs,
  type Path,
  type PhaseResult,
  type RedisCeiling,
  renderMarkdown,
  type Target,
} from "./lib/report.ts";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "..");
const SCENARIOS = ["original", "saturation", "ceiling", "all", "compare"] as const;
type Scenario = (typeof SCENARIOS)[number];

const config = loadConfig(
  z.object({
    EDGE_ORIGIN: env.url(["http"]),
    ISSUE_ORIGIN: env.url(["http"]),
    USER_PORT: env.port(8081),
    COUPON_PORT: env.port(8082),
    ADMIN_EMAIL: env.string(),
    ADMIN_PASSWORD: env.string(),
    JWT_PRIVATE_KEY_FILE: env.string(),
    JWT_JWKS_URL: env.url(["http", "https"]),
    JWT_ISSUER: env.string().default("coupon-user-service"),
    JWT_AUDIENCE: env.string().default("coupon-platform"),
    DATABASE_URL: env.url(["mysql", "mariadb"]),
    REDIS_PORT: env.port(16379),
    STATE_DIR: env.string(),
    TOKEN_CACHE_DIR: env.string(),
    CEILING_EDGE_PORT: env.port(18180),
  }),
);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    paths: { type: "string", default: "direct,edge" },
    connections: { type: "string", default: "100" },
    threads: { type: "string", default: "1" },
    duration: { type: "string", default: "30" },
    "ceiling-duration": { type: "string", default: "10" },
    warmup: { type: "string", default: "5" },
    users: { type: "string", default: "300000" },
    "first-user-id": { type: "string", default: "1000000" },
    "original-users": { type: "string", default: "15000" },
    "original-ramp": { type: "string", default: "20" },
    "original-stock": { type: "string", default: "1000" },
    "redis-requests": { type: "string", default: "500000" },
    "drain-timeout": { type: "string", default: "300" },
    label: { type: "string" },
    baseline: { type: "string", default: "http://127.0.0.1:18083" },
    rounds: { type: "string", default: "3" },
    as: { type: "string", default: "baseline" },
  },
});
const scenario = (positionals[0] ?? "all") as Scenario;
if (!SCENARIOS.includes(scenario)) {
  process.stderr.write(`usage: issue-path.sh ${SCENARIOS.join("|")} [options] (bench/README.md)\n`);
  process.exit(2);
}
const number = (name: keyof typeof values): number => {
  const value = Number(values[name]);
  if (!Number.isSafeInteger(value) || value <= 0) {
    process.stderr.write(`--${name}: expected a positive integer, got ${values[name]}\n`);
    process.exit(2);
  }
  return value;
};
const options = {
  paths: String(values.paths)
    .split(",")
    .map((p) => p.trim()) as Path[],
  connections: number("connections"),
  threads: number("threads"),
  durationSec: number("duration"),
  ceilingDurationSec: number("ceiling-duration"),
  warmupSec: number("warmup"),
  users: number("users"),
  firstUserId: number("first-user-id"),
  originalUsers: number("original-users"),
  originalRampSec: number("original-ramp"),
  originalStock: number("original-stock"),
  redisRequests: number("redis-requests"),
  drainTimeoutMs: number("drain-timeout") * 1000,
  baselineOrigin: String(values.baseline),
  rounds: number("rounds"),
};
/** What compare's two sides are: an optimisation against its baseline, or telemetry off against on. */
const COMPARISONS = {
  baseline: { subject: "issue", baseline: "baseline" },
  telemetry: { subject: "telemetry off", baseline: "telemetry on" },
} as const;
const comparisonNames = COMPARISONS[String(values.as) as keyof typeof COMPARISONS];
if (comparisonNames === undefined) {
  process.stderr.write(`--as: one of ${Object.keys(COMPARISONS).join(", ")}\n`);
  process.exit(2);
}
/** The second issue service's name in the CPU tables: "baseline issue", "telemetry on issue". */
const baselineProcess = `${comparisonNames.baseline} issue`;
if (options.paths.some((p) => p !== "direct" && p !== "edge")) {
  process.stderr.write("--paths: a list of direct and edge\n");
  process.exit(2);
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const prisma = createPrismaClient(config.DATABASE_URL, { poolSize: 2 });
const started: ChildProcess[] = [];
const pidOf = (relative: string) => pidFromFile(join(config.STATE_DIR, relative));

/** The processes of the local system, each with its children (nginx's workers, for one). */
function systemProcesses(): Record<string, number | undefined> {
  return {
    bench: process.pid,
    issue: pidOf("services/issue.pid"),
    "issue-consumer": pidOf("services/issue-consumer.pid"),
    user: pidOf("services/user.pid"),
    coupon: pidOf("services/coupon.pid"),
    redis: pidOf("redis/redis.pid"),
    "redis-sentinel": pidOf("redis/sentinel.pid"),
    kafka: pidOf("kafka/kafka.pid"),
    mariadb: pidOf("mariadb/mariadbd.pid"),
    nginx: pidOf("edge/nginx.pid"),
    jaeger: pidOf("jaeger/jaeger.pid"),
  };
}

// ---- users and their tokens ------------------------------------------------------------------

async function prepareUsers(): Promise<WrkUser[]> {
  const count = Math.max(options.users, options.originalUsers);
  const startedAt = performance.now();
  const tokens = await mintTokens(
    {
      privateKeyPem: await readFile(config.JWT_PRIVATE_KEY_FILE, "utf8"),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      firstUserId: options.firstUserId,
      count,
      expiresInSec: 24 * 3600,
    },
    { cacheDir: config.TOKEN_CACHE_DIR, minRemainingSec: 3600 },
  );
  log(
    `tokens: ${count.toLocaleString("en-US")} distinct users ready in ${seconds(performance.now() - startedAt)} s`,
  );
  return tokens.map((token, i) => ({ userId: String(options.firstUserId + i), token }));
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

// ---- ceiling servers and their edge ----------------------------------------------------------

interface Started {
  pid: number;
  port: number;
  origin: string;
}

async function startCeilingServer(
  mode: "bare" | "verify",
  bodyBytes: number,
  workers: number,
): Promise<Started> {
  const child = spawn(process.execPath, [join(ROOT, "bench/ceiling-server.ts"), mode], {
    env: {
      ...process.env,
      PORT: "0",
      BODY_BYTES: String(bodyBytes),
      WORKERS: String(workers),
      JWT_JWKS_URL: config.JWT_JWKS_URL,
      JWT_ISSUER: config.JWT_ISSUER,
      JWT_AUDIENCE: config.JWT_AUDIENCE,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  started.push(child);
  const [line] = (await once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), "line")) as [
    string,
  ];
  const { port } = JSON.parse(line) as { port: number };
  return { pid: child.pid as number, port, origin: `http://127.0.0.1:${port}` };
}

/** An nginx in front of a ceiling server, from the edge's own configuration: the same proxy hop. */
async function startCeilingEdge(name: string, upstreamPort: number, port: number): Promise<Started> {
  const dir = join(config.STATE_DIR, "bench", `edge-${name}`);
  await mkdir(join(dir, "tmp"), { recursive: true });
  const conf = (await readFile(join(ROOT, "infra/edge/nginx.conf.template"), "utf8"))
    .replaceAll("@STATE@", dir)
    .replaceAll("@EDGE_PORT@", String(port))
    .replaceAll("@USER_PORT@", String(config.USER_PORT))
    .replaceAll("@COUPON_PORT@", String(config.COUPON_PORT))
    .replaceAll("@ISSUE_PORT@", String(upstreamPort));
  await writeFile(join(dir, "nginx.conf"), conf);
  const child = spawn(
    "/usr/sbin/nginx",
    ["-c", join(dir, "nginx.conf"), "-p", dir, "-e", join(dir, "error.log")],
    {
      stdio: "ignore",
    },
  );
  started.push(child);
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${origin}/edge/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    ) {
      return { pid: child.pid as number, port, origin };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the ceiling edge ${name} did not start on port ${port}, see ${dir}/error.log`);
}

async function stopStarted(): Promise<void> {
  await Promise.all(
    started.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    }),
  );
}

// ---- phases ----------------------------------------------------------------------------------

const phases: PhaseResult[] = [];
const TIMELINE_BIN_MS = 500;

function originOf(target: Target, path: Path, ceilings: CeilingServers | undefined): string {
  if (target === "issue") return path === "direct" ? config.ISSUE_ORIGIN : config.EDGE_ORIGIN;
  if (target === "baseline") return options.baselineOrigin;
  const server = ceilings?.[target];
  if (!server) throw new Error(`no ${target} server`);
  return path === "direct" ? server.server.origin : server.edge.origin;
}

function bodyFor(sale: FlashSale): string {
  return JSON.stringify({ eventId: sale.eventId, couponId: sale.couponId });
}

/** A run of the closed loop that is not measured: the JIT, connection pools and caches warm up. */
async function warmUp(
  target: Target,
  path: Path,
  users: WrkUser[],
  ceilings?: CeilingServers,
  durationSec = options.warmupSec,
) {
  const sale =
    target === "issue" || target === "baseline"
      ? await openFlashSale({ ...saleSetup(), stock: users.length, name: `bench warm-up ${target} ${path}` })
      : undefined;
  const result = await runWrk({
    origin: originOf(target, path, ceilings),
    path: "/coupon-issues",
    body: sale ? bodyFor(sale) : ceilingBody,
    users,
    connections: options.connections,
    threads: options.threads,
    durationSec,
    wrap: !sale,
  });
  if (sale) {
    // The measured phase starts once the warm-up's issuances are in the database, so it does not
    // pay for the relay and the consumer catching up with them.
    const audit = await auditIssuance({
      prisma,
      sale,
      issuedUsers: result.records.userId.filter((_, i) => result.records.status[i] === 201),
      unansweredUsers: result.unansweredUsers,
      drainTimeoutMs: options.drainTimeoutMs,
    });
    if (!audit.ok) log(`  warm-up audit FAILED: ${JSON.stringify(audit)}`);
  }
}

/** A command to the local system's Redis, by redis-cli. */
const redisCli = (...args: string[]) => run("redis-cli", ["-p", String(config.REDIS_PORT), ...args]);

/**
 * Rewrites Redis's append-only file and waits for it, before a measured run: the rewrite Redis
 * starts by itself each time the file has doubled forks a child that takes half a core for
 * seconds; with the data of earlier sales in Redis it came every other phase, in whichever side's
 * run it fell (bench/README.md, "Comparing with a baseline").
 */
async function rewriteAppendOnlyFile(): Promise<void> {
  const persistence = async () => (await redisCli("INFO", "persistence")).stdout;
  if (!/^aof_enabled:1/m.test(await persistence())) return;
  const started = performance.now();
  // Refused while a rewrite is already running: that one is waited for instead.
  await redisCli("BGREWRITEAOF");
  while (/^aof_rewrite_(?:in_progress|scheduled):1/m.test(await persistence()))
    await new Promise((r) => setTimeout(r, 200));
  log(`  redis append-only file rewritten (${seconds(performance.now() - started)} s)`);
}

let ceilingBody = "";

// A bench's sales close a minute after their run: the relays stop reading their coupons' streams
// soon after (RELAY_RETIRE_AFTER_MS), so a long session of benches does not slow the later ones.
function saleSetup() {
  const runSec = Math.max(
    options.durationSec,
    options.ceilingDurationSec,
    options.originalRampSec,
    options.warmupSec * 4,
  );
  return {
    origin: config.EDGE_ORIGIN,
    adminEmail: config.ADMIN_EMAIL,
    adminPassword: config.ADMIN_PASSWORD,
    openForMs: (runSec + 60) * 1000,
  };
}

async function closedPhase(
  target: Target,
  path: Path,
  durationSec: number,
  users: WrkUser[],
  ceilings?: CeilingServers,
  round?: number,
): Promise<PhaseResult> {
  const name = {
    issue: scenario === "compare" ? `${comparisonNames.subject} issue path` : "issue path",
    baseline: `${comparisonNames.baseline} issue path`,
    bare: "bare ceiling",
    verify: "verify ceiling",
  };
  const title = `${name[target]} ${path === "edge" ? "via edge" : "direct"}${round === undefined ? "" : ` (round ${round})`}`;
  log(`${title}: warm-up ${options.warmupSec} s, then ${durationSec} s, ${options.connections} connections`);
  await warmUp(target, path, users, ceilings);
  await rewriteAppendOnlyFile();
  const sale =
    target === "issue" || target === "baseline"
      ? await openFlashSale({ ...saleSetup(), stock: users.length, name: `bench ${title}` })
      : undefined;
  const baselinePid = pidOf("bench/baseline.pid");
  const watch = watchProcesses(
    {
      ...systemProcesses(),
      ...ceilingProcesses(ceilings),
      // Watched in every phase: its relay takes a share of every coupon's outbox entries.
      ...(baselinePid ? { [baselineProcess]: baselinePid } : {}),
    },
    ["bench"],
  );
  watch.start(250);
  const result = await runWrk({
    origin: originOf(target, path, ceilings),
    path: "/coupon-issues",
    body: sale ? bodyFor(sale) : ceilingBody,
    users,
    connections: options.connections,
    threads: options.threads,
    durationSec,
    wrap: !sale,
    onStart: (pid) => watch.add("generator (wrk)", pid),
  });
  watch.stop();
  const { records } = result;
  const n = records.status.length;
  let firstSentUs = Number.POSITIVE_INFINITY;
  let lastDoneUs = 0;
  const statuses: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    firstSentUs = Math.min(firstSentUs, (records.doneAtUs[i] as number) - (records.latencyUs[i] as number));
    lastDoneUs = Math.max(lastDoneUs, records.doneAtUs[i] as number);
    const status = String(records.status[i]);
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
  const spanUs = Math.max(1, lastDoneUs - firstSentUs);
  const latencyMs = Float64Array.from(records.latencyUs, (us) => us / 1000);
  const doneAtMs = Float64Array.from(records.doneAtUs, (us) => (us - firstSentUs) / 1000);
  const phase: PhaseResult = {
    title,
    target,
    path,
    loop: "closed",
    connections: options.connections,
    durationSec,
    sent: result.sent,
    answered: n,
    throughputPerSec: n / (spanUs / 1e6),
    latency: summarize(latencyMs),
    statuses,
    clientErrors: Object.fromEntries(Object.entries(result.errors).filter(([, count]) => count > 0)),
    ...(result.usersExhaustedAtUs === undefined
      ? {}
      : { usersExhaustedAfterSec: (result.usersExhaustedAtUs - firstSentUs) / 1e6 }),
    wrkLatencyMs: {
      p50: result.wrkLatencyUs.p50 / 1000,
      p95: result.wrkLatencyUs.p95 / 1000,
      p99: result.wrkLatencyUs.p99 / 1000,
      max: result.wrkLatencyUs.max / 1000,
      mean: result.wrkLatencyUs.mean / 1000,
    },
    usage: watch.report(firstSentUs, lastDoneUs),
    timeline: timeline(doneAtMs, latencyMs, TIMELINE_BIN_MS, spanUs / 1000),
  };
  if (sale) {
    phase.sale = sale;
    phase.audit = await auditIssuance({
      prisma,
      sale,
      issuedUsers: records.userId.filter((_, i) => records.status[i] === 201),
      unansweredUsers: result.unansweredUsers,
      drainTimeoutMs: options.drainTimeoutMs,
    });
  }
  report(phase);
  phases.push(phase);
  return phase;
}

async function originalPhase(path: Path, users: WrkUser[]): Promise<PhaseResult> {
  const title = `original plan ${path === "edge" ? "via edge" : "direct"}`;
  const count = options.originalUsers;
  const rampMs = options.originalRampSec * 1000;
  log(`${title}: ${count} users arriving over ${options.originalRampSec} s, one request each`);
  await warmUp("issue", path, users);
  const sale = await openFlashSale({ ...saleSetup(), stock: options.originalStock, name: `bench ${title}` });
  const body = bodyFor(sale);
  // The generator is this process: the bench's own CPU is the generator's here.
  const { bench, ...others } = systemProcesses();
  const watch = watchProcesses({ "generator (this Node process)": bench, ...others }, [
    "generator (this Node process)",
  ]);
  watch.start(250);
  const fromUs = nowUs();
  const { results, elapsedMs, maxSendLagMs } = await fireOpenLoop({
    origin: path === "direct" ? config.ISSUE_ORIGIN : config.EDGE_ORIGIN,
    path: "/coupon-issues",
    requests: users.slice(0, count).map((user) => ({ token: user.token, body })),
    // JMeter's ramp-up: thread i starts at i × ramp / threads.
    arrivalMs: (i) => (i * rampMs) / count,
  });
  const toUs = nowUs();
  watch.stop();
  const statuses: Record<string, number> = {};
  const clientErrors: Record<string, number> = {};
  for (const r of results) {
    if (r.status === 0) clientErrors[r.code] = (clientErrors[r.code] ?? 0) + 1;
    else statuses[String(r.status)] = (statuses[String(r.status)] ?? 0) + 1;
  }
  const latencyMs = results.map((r) => r.latencyMs);
  const phase: PhaseResult = {
    title,
    target: "issue",
    path,
    loop: "open",
    durationSec: options.originalRampSec,
    sent: count,
    answered: results.filter((r) => r.status !== 0).length,
    // As JMeter counts it: requests over the time from the first request to the last answer.
    throughputPerSec: count / (elapsedMs / 1000),
    latency: summarize(latencyMs),
    statuses,
    clientErrors,
    maxSendLagMs,
    usage: watch.report(fromUs, toUs),
    timeline: timeline(
      results.map((r) => r.doneAtMs),
      latencyMs,
      TIMELINE_BIN_MS,
      elapsedMs,
    ),
    sale,
    audit: await auditIssuance({
      prisma,
      sale,
      issuedUsers: results.filter((r) => r.status === 201).map((r) => String(r.body?.userId)),
      unansweredUsers: users
        .slice(0, count)
        .filter((_, i) => results[i]?.status === 0)
        .map((user) => user.userId),
      drainTimeoutMs: options.drainTimeoutMs,
      expectedIssued: Math.min(options.originalStock, count),
    }),
  };
  report(phase);
  phases.push(phase);
  return phase;
}

function report(phase: PhaseResult): void {
  const l = phase.latency;
  const f = (n: number) => n.toFixed(1);
  log(
    `  ${Math.round(phase.throughputPerSec).toLocaleString("en-US")} answers/s, latency ms mean ${f(l.meanMs)} p50 ${f(l.p50Ms)} p95 ${f(l.p95Ms)} p99 ${f(l.p99Ms)} max ${f(l.maxMs)}; statuses ${JSON.stringify(phase.statuses)}${Object.keys(phase.clientErrors).length > 0 ? `; client errors ${JSON.stringify(phase.clientErrors)}` : ""}`,
  );
  const busiest = [...phase.usage.processes].sort((a, b) => b.cpuPercent - a.cpuPercent).slice(0, 6);
  log(
    `  CPU % of one core: ${busiest.map((p) => `${p.name} ${Math.round(p.cpuPercent)}`).join(", ")}, other ${Math.round(phase.usage.otherCpuPercent)} (machine ${Math.round(phase.usage.machineCpuPercent)} of ${phase.usage.cores * 100})`,
  );
  if (phase.usersExhaustedAfterSec !== undefined)
    log(`  every distinct user had asked after ${phase.usersExhaustedAfterSec.toFixed(1)} s: raise --users`);
  if (phase.audit) {
    const a = phase.audit;
    log(
      `  audit: ${a.ok ? "ok" : "FAILED"}: ${a.issued} 201s, ${a.rows} rows (drained in ${seconds(a.drainMs)} s), stock ${phase.sale?.stock}, over-issued ${a.overIssued}, duplicates ${a.duplicates}, lost ${a.lost}, rows of requests cut off at the end ${a.unanswered}, rows without a 201 ${a.unexplained}`,
    );
  }
}

// ---- ceilings --------------------------------------------------------------------------------

interface CeilingServers {
  bare: { server: Started; edge: Started };
  verify: { server: Started; edge: Started };
}

function ceilingProcesses(ceilings: CeilingServers | undefined): Record<string, number> {
  if (!ceilings) return {};
  return {
    "bare server": ceilings.bare.server.pid,
    "verify server": ceilings.verify.server.pid,
    "nginx (bare)": ceilings.bare.edge.pid,
    "nginx (verify)": ceilings.verify.edge.pid,
  };
}

async function startCeilings(): Promise<CeilingServers> {
  // The same size as the issue service's 201 answer: its body for this event, coupon and user ids.
  ceilingBody = JSON.stringify({ eventId: 1, couponId: 1 });
  const answer = JSON.stringify({
    issueId: `${Date.now()}-0`,
    couponId: 100,
    eventId: 100,
    userId: String(options.firstUserId),
    issuedAt: new Date().toISOString(),
  });
  const bodyBytes = Buffer.byteLength(answer);
  // As many processes as the issue service serves HTTP with: its cluster workers, if it has any.
  const issue = pidOf("services/issue.pid");
  const workers = Math.max(1, issue === undefined ? 1 : childPids(issue).length);
  log(`ceiling servers: ${workers} process(es) each, like the issue service`);
  const bare = await startCeilingServer("bare", bodyBytes, workers);
  const verify = await startCeilingServer("verify", bodyBytes, workers);
  return {
    bare: { server: bare, edge: await startCeilingEdge("bare", bare.port, config.CEILING_EDGE_PORT) },
    verify: {
      server: verify,
      edge: await startCeilingEdge("verify", verify.port, config.CEILING_EDGE_PORT + 1),
    },
  };
}

/**
 * The issuance script itself, run by redis-benchmark with EVALSHA for distinct random users against
 * a coupon of unlimited stock: every call checks, adds and appends to the outbox, as an issuance does.
 * Pipelined, as ioredis's auto-pipelining sends the service's calls.
 */
async function redisCeiling(): Promise<RedisCeiling> {
  const port = String(config.REDIS_PORT);
  const script = await readFile(join(ROOT, "lua/issue-coupon-3.lua"), "utf8");
  const sha = (await redisCli("SCRIPT", "LOAD", script)).stdout.trim();
  // Keys of no coupon: the relay only reads the outbox streams of registered coupons.
  const keys = ["bench:{coupon:0}:terms", "bench:{coupon:0}:issued", "bench:{coupon:0}:outbox"];
  await redisCli("DEL", ...keys);
  const now = Date.now();
  await redisCli(
    "HSET",
    keys[0] as string,
    "version",
    "1",
    "eventId",
    "0",
    "stock",
    String(options.redisRequests * 10),
    "startsAt",
    String(now),
    "endsAt",
    String(now + 86_400_000),
    "validUntil",
    String(now + 86_400_000),
  );
  const clients = 50;
  const pipeline = 16;
  log(
    `redis ceiling: EVALSHA of lua/issue-coupon-3.lua, ${options.redisRequests} calls, ${clients} clients, pipeline ${pipeline}`,
  );
  const watch = watchProcesses(systemProcesses(), ["bench"]);
  watch.start(250);
  const fromUs = nowUs();
  const child = spawn(
    "redis-benchmark",
    [
      "-p",
      port,
      "-c",
      String(clients),
      "-n",
      String(options.redisRequests),
      "-r",
      "2000000000",
      "-P",
      String(pipeline),
      "--csv",
      "EVALSHA",
      sha,
      "3",
      ...keys,
      "__rand_int__",
      "0",
      "0",
      String(now),
      String(now + 86_400_000),
      "bench",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  if (child.pid !== undefined) watch.add("generator (redis-benchmark)", child.pid);
  let out = "";
  child.stdout?.on("data", (chunk) => {
    out += chunk;
  });
  const [code] = (await once(child, "exit")) as [number | null];
  const toUs = nowUs();
  watch.stop();
  await redisCli("DEL", ...keys);
  if (code !== 0) throw new Error(`redis-benchmark exited with ${code}`);
  const row = out.trim().split("\n").at(-1)?.split('","') ?? [];
  const field = (i: number) => Number((row[i] ?? "").replaceAll('"', ""));
  const result = {
    requests: options.redisRequests,
    clients,
    pipeline,
    perSec: field(1),
    p50Ms: field(4),
    p99Ms: field(6),
    usage: watch.report(fromUs, toUs),
  };
  log(
    `  ${Math.round(result.perSec).toLocaleString("en-US")} calls/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms`,
  );
  return result;
}

// ---- the run ---------------------------------------------------------------------------------

async function main(): Promise<BenchReport> {
  const users = await prepareUsers();
  const runStarted = new Date();
  const saturation: PhaseResult[] = [];
  const ceilingPhases: PhaseResult[] = [];
  let redis: RedisCeiling | undefined;

  if (scenario === "original" || scenario === "all") {
    for (const path of options.paths) await originalPhase(path, users);
  }
  if (scenario === "saturation" || scenario === "all") {
    for (const path of options.paths)
      saturation.push(await closedPhase("issue", path, options.durationSec, users));
  }
  if (scenario === "ceiling" || scenario === "all") {
    const ceilings = await startCeilings();
    for (const path of options.paths) {
      for (const target of ["bare", "verify"] as const) {
        ceilingPhases.push(await closedPhase(target, path, options.ceilingDurationSec, users, ceilings));
      }
      if (scenario === "ceiling")
        saturation.push(await closedPhase("issue", path, options.ceilingDurationSec, users));
    }
    redis = await redisCeiling();
  }
  const comparison: Comparison[] = [];
  if (scenario === "compare") {
    // A baseline started just before the run has not been through the JIT yet, and a round's own
    // warm-up is too short for that: its first round used to be its worst by far.
    for (const target of ["issue", "baseline"] as const) {
      log(`${target}: warming up for ${options.warmupSec * 4} s before the first round`);
      await warmUp(target, "direct", users, undefined, options.warmupSec * 4);
    }
    for (let round = 1; round <= options.rounds; round++) {
      // Alternating which goes first, so that a trend in the machine's load favours neither.
      const order: Target[] = round % 2 === 1 ? ["issue", "baseline"] : ["baseline", "issue"];
      const measured: Partial<Record<Target, PhaseResult>> = {};
      for (const target of order)
        measured[target] = await closedPhase(target, "direct", options.durationSec, users, undefined, round);
      const current = measured.issue as PhaseResult;
      const baseline = measured.baseline as PhaseResult;
      const cpuOf = (phase: PhaseResult, name: string) =>
        cpuPerAnswerUs(
          phase.usage.processes.find((p) => p.name === name)?.cpuPercent ?? 0,
          phase.throughputPerSec,
        );
      comparison.push({
        round,
        issuePerSec: current.throughputPerSec,
        baselinePerSec: baseline.throughputPerSec,
        issueCpuUs: cpuOf(current, "issue"),
        baselineCpuUs: cpuOf(baseline, baselineProcess),
        ratio: current.throughputPerSec / baseline.throughputPerSec,
        issueP99Ms: current.latency.p99Ms,
        baselineP99Ms: baseline.latency.p99Ms,
      });
      log(
        `  round ${round}: ${comparisonNames.subject} / ${comparisonNames.baseline} = ${(current.throughputPerSec / baseline.throughputPerSec).toFixed(3)}`,
      );
    }
  }

  return {
    scenario,
    label: values.label,
    date: runStarted.toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    generator: {
      closedLoop: `wrk ${options.threads} thread(s), ${options.connections} connections, distinct user per request`,
      openLoop: "Node (node:http), a new connection per request, latency counted from when it was due",
    },
    options,
    phases,
    ratios: options.paths.map((path) => {
      const issue = saturation.find((p) => p.path === path);
      const of = (target: Target) => ceilingPhases.find((p) => p.target === target && p.path === path);
      const ratio = (ceiling: number | undefined) =>
        issue && ceiling ? issue.throughputPerSec / ceiling : undefined;
      return {
        path,
        issuePerSec: issue?.throughputPerSec,
        bare: ratio(of("bare")?.throughputPerSec),
        verify: ratio(of("verify")?.throughputPerSec),
        redis: ratio(redis?.perSec),
      };
    }),
    redis,
    comparison,
    comparisonNames,
  };
}

let exitCode = 1;
try {
  const result = await main();
  const name = `issue-path-${scenario}${result.label ? `-${result.label}` : ""}`;
  const dir = join(ROOT, "bench/results");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(join(dir, `${name}.md`), renderMarkdown(result));
  const chart: ChartPhase[] = result.phases.map((phase) => ({
    title: phase.title,
    bins: phase.timeline,
    cpu: {
      atSec: phase.usage.timeline.atUs.map((at) => (at - (phase.usage.timeline.atUs[0] ?? at)) / 1e6),
      percent: phase.usage.timeline.cpuPercent,
    },
  }));
  await writeFile(join(dir, `${name}.svg`), renderChart(`${name} (${result.date})`, chart));
  log(`results: bench/results/${name}.json, .md, .svg`);
  exitCode = result.phases.every((p) => p.audit === undefined || p.audit.ok) ? 0 : 1;
  if (exitCode !== 0) log("AN AUDIT FAILED: see the results");
} finally {
  await stopStarted();
  await prisma.$disconnect();
}
process.exit(exitCode);
