// What waiting for a replica costs and what it saves: two issue service processes connected through
// the three Sentinels of a topology of their own (a master and two replicas, as in Kubernetes), one answering as soon as
// the master decided (ISSUE_REPLICA_ACK_MS=0), one only once a replica holds the acceptance
// (ISSUE_REPLICA_ACK_MS=BENCH_ACK_MS, with min-replicas-to-write 1 on the servers).
//   1. latency: alternating rounds of BENCH_ROUND_MS, distinct users at BENCH_CONCURRENCY in flight;
//      the median round's p50 and p99 count;
//   2. failover: per mode, a race in which the master is SIGKILLed, plainly and once with the
//      replicas behind (SIGSTOPped for BENCH_LAG_MS just before the kill, as busy or distant replicas
//      are): 201s, acceptances lost (answered 201, unknown to the promoted master), 503s by code, and
//      the error window (the kill to the next 201). The killed server then rejoins as a replica.
//   pnpm bench:failover      (needs only redis-server and redis-sentinel; ports 32200–32205)
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startTestTokenIssuer } from "@coupon/auth/testing";
import { closeRedis, createIssuanceTermsWriter, createRedis } from "@coupon/redis";
import { ownRedisSentinel, type ServiceProcess, startService } from "@coupon/testing";
// The root workspace does not depend on @coupon/contracts; its source is imported as it stands.
import { couponKeys, issuanceTermsOf } from "../packages/contracts/src/index.ts";

const ACK_MS = Number(process.env.BENCH_ACK_MS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 3_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LAG_MS = Number(process.env.BENCH_LAG_MS ?? 500);

type Mode = "off" | "on";

const redis = ownRedisSentinel({ basePort: 32200, replicas: 2 });
const tokens = await startTestTokenIssuer();
const redisEnv = { REDIS_SENTINELS: redis.sentinels.join(","), REDIS_SENTINEL_MASTER: redis.masterName };
const services: Partial<Record<Mode, ServiceProcess>> = {};
const reader = createRedis({ ...redisEnv, REDIS_SENTINELS: redis.sentinels, REDIS_KEY_PREFIX: "" }, "bench");
const terms = createIssuanceTermsWriter(reader);

function startIssue(mode: Mode): Promise<ServiceProcess> {
  return startService("issue", {
    ...redisEnv,
    ISSUE_REPLICA_ACK_MS: mode === "on" ? String(ACK_MS) : "0",
    RELAY_ENABLED: "false",
    KAFKA_BROKERS: "127.0.0.1:1",
    COUPON_SERVICE_URL: "http://127.0.0.1:1",
    JWT_JWKS_URL: tokens.jwksUrl,
  });
}

let couponIds = 900_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
let nextUser = 1;

async function openCoupon(): Promise<number> {
  const couponId = ++couponIds;
  const now = Date.now();
  await terms.write(
    issuanceTermsOf({
      couponId,
      eventId: 1,
      discountType: "PERCENT",
      discountRate: 10,
      discountPrice: null,
      maxQuantity: 10_000_000,
      validFrom: new Date(now - 3_600_000).toISOString(),
      validUntil: new Date(now + 86_400_000).toISOString(),
      issueStartsAt: new Date(now - 60_000).toISOString(),
      issueEndsAt: new Date(now + 3_600_000).toISOString(),
      termsVersion: 1,
    }),
    { refuseBelowIssued: false },
  );
  return couponId;
}

interface Answer {
  user: string;
  status: number;
  code: string;
  startedAt: number;
  ms: number;
}

/** CONCURRENCY lanes of distinct users against one service until `until` resolves. */
async function race(mode: Mode, couponId: number, until: (answers: Answer[]) => Promise<void>) {
  const answers: Answer[] = [];
  let stopping = false;
  const lane = async () => {
    while (!stopping) {
      const user = String(nextUser++);
      // Signed before the clock starts: the generator's own RS256 signing is not the service's latency.
      const authorization = `Bearer ${tokens.token({ sub: user })}`;
      const startedAt = performance.now();
      const res = await fetch(`${services[mode]?.baseUrl}/coupon-issues`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization,
        },
        body: JSON.stringify({ eventId: 1, couponId }),
      });
      const body = (await res.json()) as { code?: string };
      answers.push({
        user,
        status: res.status,
        code: body.code ?? "",
        startedAt,
        ms: performance.now() - startedAt,
      });
    }
  };
  const lanes = Promise.all(Array.from({ length: CONCURRENCY }, lane));
  await until(answers);
  stopping = true;
  await lanes;
  return answers;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const median = (values: number[]) => percentile(values, 50);

async function latencyRound(mode: Mode) {
  const answers = await race(mode, await openCoupon(), () => sleep(ROUND_MS));
  const ms = answers.filter((a) => a.status === 201).map((a) => a.ms);
  return { perSec: (answers.length / ROUND_MS) * 1000, p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

async function failover(mode: Mode, lagMs: number) {
  await redis.setMinReplicasToWrite(mode === "on" ? 1 : 0);
  const couponId = await openCoupon();
  const master = await redis.master();
  const replicas = redis.redisPorts.filter((p) => p !== master);
  let killedAt = 0;
  const answers = await race(mode, couponId, async (answers) => {
    await sleep(1_500);
    if (lagMs > 0) {
      for (const replica of replicas) redis.pause(replica);
      await sleep(lagMs);
    }
    await redis.killMaster();
    killedAt = performance.now();
    if (lagMs > 0) for (const replica of replicas) redis.resume(replica);
    await redis.waitForNewMaster(master);
    while (!answers.some((a) => a.status === 201 && a.startedAt > killedAt)) await sleep(50);
    await sleep(500);
  });
  const held = new Set(await reader.smembers(couponKeys(couponId).issued));
  const told201 = answers.filter((a) => a.status === 201);
  const firstAfter = Math.min(...told201.filter((a) => a.startedAt > killedAt).map((a) => a.startedAt));
  const byCode: Record<string, number> = {};
  for (const a of answers.filter((a) => a.status !== 201)) {
    const key = `${a.status} ${a.code}`;
    byCode[key] = (byCode[key] ?? 0) + 1;
  }
  const unconfirmed = answers.filter((a) => a.code === "ISSUANCE_UNCONFIRMED");
  const result = {
    mode,
    replicaLagMs: lagMs,
    requests: answers.length,
    issued201: told201.length,
    lost: told201.filter((a) => !held.has(a.user)).length,
    heldWithout201: [...held].filter((u) => !told201.some((a) => a.user === u)).length,
    unconfirmedHeld: unconfirmed.filter((a) => held.has(a.user)).length,
    errors: byCode,
    errorWindowMs: Math.round(firstAfter - killedAt),
  };
  // The killed server comes back as a replica: the next round starts from a master and two replicas.
  await redis.restart(master);
  return result;
}

const latency: Record<Mode, { perSec: number; p50: number; p99: number }[]> = { off: [], on: [] };
const failovers: Awaited<ReturnType<typeof failover>>[] = [];
try {
  await redis.start();
  services.off = await startIssue("off");
  services.on = await startIssue("on");
  for (let i = 0; i < ROUNDS; i++) {
    for (const mode of (i % 2 === 0 ? ["off", "on"] : ["on", "off"]) as Mode[])
      latency[mode].push(await latencyRound(mode));
  }
  for (const lagMs of [0, LAG_MS])
    for (const mode of ["off", "on"] as Mode[]) failovers.push(await failover(mode, lagMs));
} finally {
  await Promise.all(Object.values(services).map((s) => s.stop()));
  await closeRedis(reader);
  await tokens.close();
  await redis.stop();
}

const summary = Object.fromEntries(
  (["off", "on"] as Mode[]).map((mode) => [
    mode,
    {
      answersPerSec: Math.round(median(latency[mode].map((r) => r.perSec))),
      p50Ms: Number(median(latency[mode].map((r) => r.p50)).toFixed(2)),
      p99Ms: Number(median(latency[mode].map((r) => r.p99)).toFixed(2)),
    },
  ]),
);
process.stdout.write(
  `replica acknowledgement ${ACK_MS} ms, ${CONCURRENCY} in flight, ${ROUNDS} rounds of ${ROUND_MS} ms\n`,
);
for (const mode of ["off", "on"] as Mode[]) {
  const s = summary[mode] as { answersPerSec: number; p50Ms: number; p99Ms: number };
  process.stdout.write(
    `  ack ${mode.padEnd(3)}  ${s.answersPerSec} answers/s, 201 latency p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms\n`,
  );
}
for (const f of failovers) {
  process.stdout.write(
    `  failover, ack ${f.mode.padEnd(3)} replica lag ${String(f.replicaLagMs).padStart(3)} ms: ${f.requests} requests, ${f.issued201} answered 201, lost ${f.lost}, held without a 201 ${f.heldWithout201} (of them answered unconfirmed ${f.unconfirmedHeld}), error window ${f.errorWindowMs} ms, ${JSON.stringify(f.errors)}\n`,
  );
}
const resultsDir = resolve(import.meta.dirname, "results");
mkdirSync(resultsDir, { recursive: true });
writeFileSync(
  resolve(resultsDir, "redis-failover.json"),
  `${JSON.stringify({ ackMs: ACK_MS, concurrency: CONCURRENCY, latency, summary, failovers }, null, 2)}\n`,
);
