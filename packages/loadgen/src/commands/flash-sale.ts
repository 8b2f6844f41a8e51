// The project's main job, end to end on the local system: an admin opens an event with one coupon,
// many distinct users claim it at once through the edge with real tokens, and once the consumer has
// drained Kafka the invariants are audited against the database.
//
//   node packages/loadgen/src/commands/flash-sale.ts [--users 10000] [--stock 1000] [--concurrency 200]
//
// Needs: ORIGIN (the edge), ADMIN_EMAIL / ADMIN_PASSWORD, JWT_PRIVATE_KEY_FILE (the user service's
// signing key: user tokens are signed with it, as the user service would sign them, without 100k
// sign-ups), DATABASE_URL (for the audit). ./dev flash-sale sets them for the local system.
// Exit status 0 when every invariant holds, 1 otherwise.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { env, loadConfig, z } from "@coupon/config";
import { createPrismaClient } from "@coupon/db";
import { fireAll } from "../fire.ts";
import { auditIssuance, openFlashSale } from "../flash-sale.ts";
import { countBy, summarize } from "../stats.ts";
import { mintTokens } from "../tokens.ts";

const config = loadConfig(
  z.object({
    ORIGIN: env.url(["http", "https"]),
    ADMIN_EMAIL: env.string(),
    ADMIN_PASSWORD: env.string(),
    JWT_PRIVATE_KEY_FILE: env.string(),
    JWT_ISSUER: env.string().default("coupon-user-service"),
    JWT_AUDIENCE: env.string().default("coupon-platform"),
    DATABASE_URL: env.url(["mysql", "mariadb"]),
    TOKEN_CACHE_DIR: env.string().optional(),
  }),
);
const { values } = parseArgs({
  options: {
    users: { type: "string", default: "10000" },
    stock: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "200" },
    "first-user-id": { type: "string", default: "1000000" },
    "drain-timeout-sec": { type: "string", default: "300" },
  },
});
const users = Number(values.users);
const stock = Number(values.stock);
const concurrency = Number(values.concurrency);
const firstUserId = Number(values["first-user-id"]);
for (const [name, value] of Object.entries({ users, stock, concurrency, firstUserId })) {
  if (!Number.isSafeInteger(value) || value <= 0) {
    process.stderr.write(`--${name}: expected a positive integer\n`);
    process.exit(2);
  }
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);
const line = (label: string, value: string) => process.stdout.write(`  ${label.padEnd(22)}${value}\n`);

const prisma = createPrismaClient(config.DATABASE_URL, { poolSize: 2 });
try {
  process.stdout.write(
    `flash sale: ${users} distinct users, stock ${stock}, ${concurrency} in flight, through ${config.ORIGIN}\n`,
  );
  const sale = await openFlashSale({
    origin: config.ORIGIN,
    adminEmail: config.ADMIN_EMAIL,
    adminPassword: config.ADMIN_PASSWORD,
    stock,
    name: `flash sale ${new Date().toISOString()}`,
  });
  line("event / coupon", `${sale.eventId} / ${sale.couponId}`);

  const minting = performance.now();
  const tokens = await mintTokens(
    {
      privateKeyPem: readFileSync(config.JWT_PRIVATE_KEY_FILE, "utf8"),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      firstUserId,
      count: users,
      expiresInSec: 6 * 3600,
    },
    { cacheDir: config.TOKEN_CACHE_DIR ?? resolve(process.cwd(), ".local/tokens") },
  );
  line("tokens", `${users} ready in ${fmt((performance.now() - minting) / 1000)} s`);

  const body = JSON.stringify({ eventId: sale.eventId, couponId: sale.couponId });
  const { results, elapsedMs } = await fireAll({
    origin: config.ORIGIN,
    path: "/coupon-issues",
    concurrency,
    requests: tokens.map((token) => ({ token, body })),
  });
  const issuedUsers = results.filter((r) => r.status === 201).map((r) => String(r.body?.userId));
  const outcomes = countBy(results, (r) => r.code);
  const rejected = results.length - issuedUsers.length;

  const audit = await auditIssuance({
    prisma,
    sale,
    issuedUsers,
    drainTimeoutMs: Number(values["drain-timeout-sec"]) * 1000,
    expectedIssued: Math.min(stock, users),
  });
  const latency = summarize(results.map((r) => r.latencyMs));

  line("issued (201)", String(issuedUsers.length));
  line(
    "rejected",
    `${rejected} (${Object.entries(outcomes)
      .filter(([code]) => code !== "ISSUED")
      .map(([code, n]) => `${code} ${n}`)
      .join(", ")})`,
  );
  line("persisted (rows)", `${audit.rows} (drained ${fmt(audit.drainMs / 1000)} s after the last answer)`);
  line("over-issued", String(audit.overIssued));
  line("duplicates", String(audit.duplicates));
  line("lost (201, no row)", String(audit.lost));
  line("rows without a 201", String(audit.unexplained));
  line("throughput", `${fmt(results.length / (elapsedMs / 1000), 0)} req/s (${fmt(elapsedMs / 1000, 2)} s)`);
  line(
    "latency ms",
    `mean ${fmt(latency.meanMs)}  p50 ${fmt(latency.p50Ms)}  p95 ${fmt(latency.p95Ms)}  p99 ${fmt(latency.p99Ms)}  max ${fmt(latency.maxMs)}`,
  );
  const traced = results.find((r) => r.status === 201 && r.requestId !== undefined)?.requestId;
  if (traced !== undefined) line("one 201, traced", `./dev trace ${traced}`);
  process.stdout.write(audit.ok ? "RESULT: every invariant holds\n" : "RESULT: INVARIANT VIOLATED\n");
  process.exitCode = audit.ok ? 0 : 1;
} finally {
  await prisma.$disconnect();
}
