import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { createJwtVerifier, createRemoteJwks } from "@coupon/auth";
import { createPrismaClientFromEnv } from "@coupon/db";
import { serve } from "@coupon/http";
import { createServiceRuntime } from "@coupon/lifecycle";
import { closeRedis, createRedis } from "@coupon/redis";
import { shutdownTelemetry } from "@coupon/telemetry";
import { Gauge, Registry } from "prom-client";
import { createPrismaCouponRepository } from "./adapters/prisma-coupon-repository.ts";
import { createRedisCouponCache } from "./adapters/redis-coupon-cache.ts";
import { createRedisIssuedCounter } from "./adapters/redis-issued-counter.ts";
import { createRedisLease } from "./adapters/redis-lease.ts";
import { createRedisTermsInForce } from "./adapters/redis-terms-in-force.ts";
import { buildApp } from "./app.ts";
import { readConfig } from "./config.ts";
import { createCouponCatalog } from "./domain/coupon-catalog.ts";
import { createWriteBackJob } from "./domain/write-back.ts";

const WRITE_BACK_LEASE_KEY = "coupon-service:write-back:lease";

const config = readConfig();
const { logger, shutdown } = createServiceRuntime("coupon", config);

const verifier = createJwtVerifier({
  keys: createRemoteJwks({ url: config.JWT_JWKS_URL }),
  issuer: config.JWT_ISSUER,
  audience: config.JWT_AUDIENCE,
});
const prisma = createPrismaClientFromEnv(config);
// Bounded, as a stock change waits for Redis while it holds the coupon's row lock.
const redis = createRedis(config, "coupon", { commandTimeout: 2_000 });

const repository = createPrismaCouponRepository(prisma);
const issued = createRedisIssuedCounter(redis);
const catalog = createCouponCatalog({
  repository,
  cache: createRedisCouponCache(redis, {
    ttlMs: config.COUPON_CACHE_TTL_MS,
    notFoundTtlMs: config.COUPON_CACHE_NOT_FOUND_TTL_MS,
  }),
  issued,
  terms: createRedisTermsInForce(redis),
  logger,
});
const registry = new Registry();
// Set only by the replica that writes: an alert compares the newest of them with the time.
const writeBackSucceeded = new Gauge({
  name: "coupon_write_back_last_success_timestamp_seconds",
  help: "When this replica last completed a write-back round as the lease holder (Unix seconds)",
  registers: [registry],
});
const writeBack = createWriteBackJob({
  lease: createRedisLease(redis, {
    key: WRITE_BACK_LEASE_KEY,
    // The pod name first, so that the lease's value tells an operator which replica writes.
    holder: `${hostname()}:${process.pid}:${randomUUID()}`,
    ttlMs: config.WRITE_BACK_LEASE_TTL_MS,
  }),
  repository,
  issued,
  intervalMs: config.WRITE_BACK_INTERVAL_MS,
  graceMs: config.WRITE_BACK_GRACE_MS,
  logger,
  succeeded: (at) => writeBackSucceeded.set(at.getTime() / 1000),
});

const app = buildApp({
  logger,
  registry,
  isAccepting: shutdown.isAccepting,
  readinessChecks: {
    database: () => prisma.$queryRaw`SELECT 1`,
    redis: () => redis.ping(),
  },
  verifier,
  catalog,
});
await serve(app, { config, logger, shutdown });
writeBack.start();
shutdown.add({ name: "write-back", run: () => writeBack.stop() });
shutdown.add({ name: "redis", run: () => closeRedis(redis) });
shutdown.add({ name: "database", run: () => prisma.$disconnect() });
// Last: the spans of everything before it are exported.
shutdown.add({ name: "telemetry", run: shutdownTelemetry });
