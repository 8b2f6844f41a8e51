// The system the fault suite breaks: an infra instance of its own ("faults", ports from
// FAULTS_PORT_BASE, 12000 unless set), Redis behind three Sentinels, the four services on fixed
// ports behind the nginx edge, and what a case needs to observe it.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { couponKeys } from "@coupon/contracts";
import { createPrismaClient } from "@coupon/db";
import { type FireRequest, type FireResult, fireAll, fireOpenLoop } from "@coupon/loadgen";
import { closeRedis, createRedis, type Redis } from "@coupon/redis";
import { ownRedisSentinel, repoRoot } from "@coupon/testing";
import { openFlashSale, type System, startSystem } from "../system.ts";
import type { CaseContext, FaultCase } from "./cases.ts";
import { type Answer, type CaseObservation, isErrorAnswer } from "./outcome.ts";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((settle) => setTimeout(settle, Math.max(0, ms)));

/** The suite's users are FIRST_USER_ID, FIRST_USER_ID + 1, …: one token each. */
export const FIRST_USER_ID = 5_000_000;

export interface FaultSystem {
  privateKeyPem: string;
  runCase(faultCase: FaultCase, tokens: readonly string[]): Promise<CaseObservation>;
  stop(): Promise<void>;
}

export async function startFaultSystem(log: (message: string) => void): Promise<FaultSystem> {
  const base = Number(process.env.FAULTS_PORT_BASE ?? 12_000);
  const ports = {
    edge: base + 80,
    user: base + 81,
    coupon: base + 82,
    issue: base + 83,
    consumer: base + 84,
    mariadb: base + 3306,
    kafka: base + 9092,
    redis: base + 6400,
  };
  const infraEnv = {
    ...process.env,
    INFRA_INSTANCE: "faults",
    INFRA_PORT_BASE: String(base),
    EDGE_PORT: String(ports.edge),
    USER_PORT: String(ports.user),
    COUPON_PORT: String(ports.coupon),
    ISSUE_PORT: String(ports.issue),
  };
  const script = (name: string, command: string) =>
    run(resolve(repoRoot, "scripts", name), [command], { env: infraEnv, timeout: 300_000 });
  const started: string[] = [];
  const redisTopology = ownRedisSentinel({
    basePort: ports.redis,
    dir: resolve(repoRoot, ".local/faults/redis"),
    downAfterMs: 5_000,
  });
  let system: System | undefined;
  let redis: Redis | undefined;

  const stop = async () => {
    const steps = [
      async () => system?.stop(),
      async () => redis && closeRedis(redis),
      ...started.reverse().map((name) => async () => void (await script(name, "stop"))),
      () => redisTopology.stop(),
    ];
    for (const step of steps)
      await step().catch((error: unknown) => log(`stopping: ${(error as Error).message}`));
  };

  try {
    log("starting MariaDB and Kafka (instance faults)");
    for (const name of ["infra/mariadb.sh", "infra/kafka.sh"]) {
      await script(name, "start");
      started.push(name);
    }
    log("starting Redis: a master, a replica, three Sentinels");
    await redisTopology.start();
    const redisEnv = {
      REDIS_SENTINELS: redisTopology.sentinels.join(","),
      REDIS_SENTINEL_MASTER: redisTopology.masterName,
    };
    log("starting the services");
    system = await startSystem("faults", [`127.0.0.1:${ports.kafka}`], {
      databaseServerUrl: `mysql://coupon:coupon@127.0.0.1:${ports.mariadb}`,
      redisEnv,
      ports: { user: ports.user, coupon: ports.coupon, issue: ports.issue, consumer: ports.consumer },
    });
    await script("edge.sh", "start");
    started.push("edge.sh");
    redis = createRedis(
      {
        REDIS_SENTINELS: redisTopology.sentinels,
        REDIS_SENTINEL_MASTER: redisTopology.masterName,
        REDIS_KEY_PREFIX: system.redisKeyPrefix,
      },
      "fault-suite",
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const running = system;
  const auditRedis = redis;
  const origin = `http://127.0.0.1:${ports.edge}`;
  const prisma = createPrismaClient(running.database.url, { poolSize: 2 });

  const rowsOf = async (couponId: number) =>
    (
      await prisma.couponIssue.findMany({ where: { couponId: BigInt(couponId) }, select: { userId: true } })
    ).map((row) => String(row.userId));

  /** Until the rows match Redis's acceptances and stop changing: the outbox and Kafka are empty. */
  async function drain(couponId: number): Promise<void> {
    const deadline = Date.now() + 240_000;
    let last = -1;
    let stableSince = Date.now();
    while (Date.now() < deadline) {
      const [rows, accepted] = await Promise.all([
        prisma.couponIssue.count({ where: { couponId: BigInt(couponId) } }).catch(() => -1),
        auditRedis.scard(couponKeys(couponId).issued).catch(() => -2),
      ]);
      if (rows !== last) {
        last = rows;
        stableSince = Date.now();
      } else if (rows >= accepted && Date.now() - stableSince > 3_000) return;
      await sleep(500);
    }
    log(`coupon ${couponId}: the rows did not settle within 240 s`);
  }

  async function reconcile(couponId: number): Promise<CaseObservation["reconcile"]> {
    const result = await run(
      process.execPath,
      [resolve(repoRoot, "services/issue/src/commands/reconcile.ts"), "--coupon", String(couponId), "--json"],
      {
        env: {
          PATH: process.env.PATH ?? "",
          REDIS_SENTINELS: redisTopology.sentinels.join(","),
          REDIS_SENTINEL_MASTER: redisTopology.masterName,
          REDIS_KEY_PREFIX: running.redisKeyPrefix,
          DATABASE_URL: running.database.url,
        },
      },
    ).catch((error: { stdout?: string; code?: number }) => ({
      stdout: error.stdout ?? "",
      code: error.code,
    }));
    const [report] = JSON.parse(result.stdout || "[]") as {
      consistent: boolean;
      accepted: number;
      persisted: number;
      missingInDatabase: unknown[];
      unknownToRedis: unknown[];
      overIssued: number;
    }[];
    if (!report) return { consistent: false, summary: `no report (${result.stdout.slice(0, 200)})` };
    return {
      consistent: report.consistent,
      summary: `accepted ${report.accepted}, persisted ${report.persisted}, missing in the database ${report.missingInDatabase.length}, rows without acceptance ${report.unknownToRedis.length}, over-issued ${report.overIssued}`,
    };
  }

  return {
    privateKeyPem: running.privateKeyPem,
    async runCase(faultCase, tokens) {
      await faultCase.before?.({ system: running, redisTopology });
      const { couponId, eventId } = await openFlashSale(running, faultCase.stock);
      const adminToken = await running.adminToken();
      const body = JSON.stringify({ eventId, couponId });
      const requests: FireRequest[] = tokens.slice(0, faultCase.users).map((token) => ({ token, body }));
      const arrivalMs = (i: number) => (i * 1_000) / faultCase.ratePerSec;
      // The terms reach Redis with the first request; a warm-up by one more user keeps that out of the race.
      const warmUp = await fireAll({
        origin,
        path: "/coupon-issues",
        concurrency: 1,
        requests: [{ token: tokens[faultCase.users] as string, body }],
      });

      const startedAt = performance.now();
      const context: CaseContext = {
        system: running,
        redisTopology,
        couponId,
        sinceStartMs: () => performance.now() - startedAt,
        sleepUntil: async (ms) => {
          await sleep(ms - (performance.now() - startedAt));
        },
        stopInfra: async (name) => void (await script(`infra/${name}.sh`, "stop")),
        startInfra: async (name) => void (await script(`infra/${name}.sh`, "start")),
        issuedCount: () => auditRedis.scard(couponKeys(couponId).issued),
        patchStock: async (maxQuantity) => {
          const res = await fetch(`${origin}/coupons/${couponId}`, {
            method: "PATCH",
            headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
            body: JSON.stringify({ maxQuantity }),
          });
          return res.status;
        },
      };
      const [race, fault] = await Promise.all([
        fireOpenLoop({ origin, path: "/coupon-issues", requests, arrivalMs, timeoutMs: 5_000 }),
        faultCase.inject(context),
      ]);
      const answers: Answer[] = race.results.map((result: FireResult, i) => ({
        userId: String(FIRST_USER_ID + i),
        status: result.status,
        code: result.code,
        sentAtMs: arrivalMs(i),
        doneAtMs: result.doneAtMs,
      }));
      const failed = answers
        .map((answer, i) => ({ answer, i }))
        .filter(({ answer }) => isErrorAnswer(answer));
      if (failed.length > 0) {
        log(`case ${faultCase.name}: retrying ${failed.length} failed requests`);
        const retried = await fireAll({
          origin,
          path: "/coupon-issues",
          concurrency: 20,
          requests: failed.map(({ i }) => requests[i] as FireRequest),
          timeoutMs: 10_000,
        });
        failed.forEach(({ answer }, k) => {
          const result = retried.results[k] as FireResult;
          answer.retry = { status: result.status, code: result.code };
        });
      }

      const [warmUpAnswer] = warmUp.results as [FireResult];
      answers.push({
        userId: String(FIRST_USER_ID + faultCase.users),
        status: warmUpAnswer.status,
        code: warmUpAnswer.code,
        sentAtMs: -warmUpAnswer.latencyMs,
        doneAtMs: 0,
      });

      await drain(couponId);
      await faultCase.after?.({ system: running, redisTopology });
      return {
        name: faultCase.name,
        description: faultCase.description,
        stock: fault.finalStock ?? faultCase.stock,
        faultAtMs: fault.faultAtMs,
        healedAtMs: fault.healedAtMs,
        answers,
        rows: await rowsOf(couponId),
        redisAccepted: await auditRedis.smembers(couponKeys(couponId).issued),
        reconcile: await reconcile(couponId),
        notes: fault.notes,
        checks: fault.checks,
      };
    },
    async stop() {
      await prisma.$disconnect();
      await stop();
    },
  };
}
