// Compares, per coupon, the users Redis accepted, the rows in coupon_issues and the stock, and
// reports the differences; with --repair it re-emits accepted issuances the database lacks.
//
//   node src/commands/reconcile.ts [--coupon ID]... [--repair] [--json]
//
// Exit status: 0 when every coupon is consistent, 2 when a difference was found, 1 on error.
import { parseArgs } from "node:util";
import { env, loadConfig, z } from "@coupon/config";
import { createPrismaClient } from "@coupon/db";
import { checkRedisEnv, closeRedis, createRedis, redisEnv } from "@coupon/redis";
import { issuedCouponIds, loadCouponSnapshot, reemitIssuances } from "../adapters/reconciliation-store.ts";
import { type ReconciliationReport, reconcile } from "../domain/reconciliation.ts";

const config = loadConfig(
  z.object({ ...redisEnv, DATABASE_URL: env.url(["mysql", "mariadb"]) }).superRefine(checkRedisEnv),
);
const { values } = parseArgs({
  options: {
    coupon: { type: "string", multiple: true },
    repair: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});

const redis = createRedis(config, "reconcile");
const prisma = createPrismaClient(config.DATABASE_URL, { poolSize: 2 });

function describe(report: ReconciliationReport, repaired: number): string {
  const state = report.consistent ? "consistent" : "DIFFERENT";
  return [
    `coupon ${report.couponId}: ${state}`,
    `stock ${report.stock}, accepted ${report.accepted}, persisted ${report.persisted}, in flight ${report.inFlight}`,
    `missing in database ${report.missingInDatabase.length}, rows without acceptance ${report.unknownToRedis.length}, over-issued ${report.overIssued}, accepted after a 503 ${report.unannounced.length}`,
    repaired > 0 ? `re-emitted ${repaired}` : "",
  ]
    .filter(Boolean)
    .join("; ");
}

try {
  const couponIds = values.coupon?.map(Number) ?? (await issuedCouponIds(redis, prisma));
  let different = false;
  const results: (ReconciliationReport & { repaired: number })[] = [];
  for (const couponId of couponIds) {
    const snapshot = Number.isSafeInteger(couponId)
      ? await loadCouponSnapshot(redis, prisma, couponId)
      : undefined;
    if (!snapshot) {
      process.stderr.write(`coupon ${couponId}: not found in the database\n`);
      different = true;
      continue;
    }
    const report = reconcile(snapshot.state);
    let repaired = 0;
    if (values.repair && report.missingInDatabase.length > 0) {
      await reemitIssuances(redis, couponId, snapshot.eventId, report.missingInDatabase);
      repaired = report.missingInDatabase.length;
    }
    different ||= !report.consistent;
    results.push({ ...report, repaired });
    if (!values.json) process.stdout.write(`${describe(report, repaired)}\n`);
  }
  if (values.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  process.exitCode = different ? 2 : 0;
} catch (error) {
  process.stderr.write(`reconciliation failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await closeRedis(redis);
  await prisma.$disconnect();
}
