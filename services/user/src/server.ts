import { createPrismaClientFromEnv } from "@coupon/db";
import { serve } from "@coupon/http";
import { createServiceRuntime } from "@coupon/lifecycle";
import { closeRedis, createRedis } from "@coupon/redis";
import { shutdownTelemetry } from "@coupon/telemetry";
import { Registry } from "prom-client";
import { buildApp } from "./app.ts";
import { readConfig } from "./config.ts";
import { wireUserService } from "./wiring.ts";

const config = readConfig();
const { logger, shutdown } = createServiceRuntime("user", config);

const prisma = createPrismaClientFromEnv(config);
const redis = createRedis(config, "user");
const { accounts, keyRing, verifier } = wireUserService(config, { prisma, redis });
logger.info(
  { signing_kid: keyRing.signingKey.kid, published_kids: keyRing.jwks.keys.map((key) => key.kid) },
  "signing keys loaded",
);

const app = buildApp({
  logger,
  registry: new Registry(),
  isAccepting: shutdown.isAccepting,
  readinessChecks: {
    database: () => prisma.$queryRaw`SELECT 1`,
    redis: () => redis.ping(),
  },
  accounts,
  verifier,
  jwks: keyRing.jwks,
  trustProxy: config.TRUST_PROXY,
});
await serve(app, { config, logger, shutdown });
shutdown.add({ name: "redis", run: () => closeRedis(redis) });
shutdown.add({ name: "database", run: () => prisma.$disconnect() });
// Last: the spans of everything before it are exported.
shutdown.add({ name: "telemetry", run: shutdownTelemetry });
