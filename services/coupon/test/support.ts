// Component-test harness: the coupon app in-process on a loopback port, against a fresh MariaDB
// database and the test Redis under a key prefix of its own, with real RS256 tokens.
import { randomUUID } from "node:crypto";
import { createJwtVerifier, createRemoteJwks } from "@coupon/auth";
import { startTestTokenIssuer, type TestTokenIssuer } from "@coupon/auth/testing";
import { createPrismaClient, type PrismaClient } from "@coupon/db";
import { createTestDatabase, type TestDatabase } from "@coupon/db/testing";
import { closeServer, listen } from "@coupon/http";
import { createLogger } from "@coupon/logging";
import { closeRedis, createRedis, type Redis } from "@coupon/redis";
import { testEndpoints } from "@coupon/testing";
import { Registry } from "prom-client";
import { createPrismaCouponRepository } from "../src/adapters/prisma-coupon-repository.ts";
import { createRedisCouponCache } from "../src/adapters/redis-coupon-cache.ts";
import { createRedisIssuedCounter } from "../src/adapters/redis-issued-counter.ts";
import { createRedisTermsInForce } from "../src/adapters/redis-terms-in-force.ts";
import { buildApp } from "../src/app.ts";
import { createCouponCatalog } from "../src/domain/coupon-catalog.ts";
import type { CouponRepository } from "../src/domain/ports.ts";

export const silentLogger = createLogger({ service: "coupon-test", level: "silent" });

export interface TestInfra {
  /** This file's own database. */
  databaseUrl: string;
  prisma: PrismaClient;
  /** A client on the test Redis whose commands see only this file's keys. */
  redis: Redis;
  /** Another connection with the same key prefix, e.g. for a second replica. */
  connectRedis(): Redis;
  issuer: TestTokenIssuer;
  adminToken: string;
  userToken: string;
  close(): Promise<void>;
}

export async function startInfra(label: string): Promise<TestInfra> {
  const database: TestDatabase = await createTestDatabase({
    serverUrl: testEndpoints().databaseServerUrl,
    label,
  });
  const prisma = createPrismaClient(database.url, { poolSize: 4 });
  const prefix = `test:${label}:${randomUUID()}:`;
  const clients: Redis[] = [];
  const connectRedis = () => {
    const client = createRedis(
      {
        REDIS_URL: testEndpoints().redisUrl,
        REDIS_KEY_PREFIX: prefix,
        REDIS_SENTINEL_MASTER: "coupon-redis",
      },
      label,
    );
    clients.push(client);
    return client;
  };
  const redis = connectRedis();
  const issuer = await startTestTokenIssuer();
  return {
    databaseUrl: database.url,
    prisma,
    redis,
    connectRedis,
    issuer,
    adminToken: issuer.token({ sub: "1", role: "admin" }),
    userToken: issuer.token({ sub: "2", role: "user" }),
    async close() {
      // KEYS takes its pattern as is (no prefix) and answers full names; DEL adds the prefix.
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys.map((key) => key.slice(prefix.length)));
      await Promise.all(clients.map(closeRedis));
      await issuer.close();
      await prisma.$disconnect();
      await database.drop();
    },
  };
}

export interface AppOptions {
  redis?: Redis;
  /** A client of the app's own, e.g. one that reaches the database through a proxy. */
  prisma?: PrismaClient;
  cacheTtlMs?: number;
  notFoundTtlMs?: number;
}

export interface TestApp {
  baseUrl: string;
  /** Coupon reads that reached the database: the real repository, counted. */
  databaseReads(): number;
  close(): Promise<void>;
}

export async function startApp(infra: TestInfra, options: AppOptions = {}): Promise<TestApp> {
  const redis = options.redis ?? infra.redis;
  const real = createPrismaCouponRepository(options.prisma ?? infra.prisma);
  let reads = 0;
  const repository: CouponRepository = {
    ...real,
    findCoupon(couponId) {
      reads++;
      return real.findCoupon(couponId);
    },
  };
  const catalog = createCouponCatalog({
    repository,
    cache: createRedisCouponCache(redis, {
      ttlMs: options.cacheTtlMs ?? 60_000,
      notFoundTtlMs: options.notFoundTtlMs ?? 60_000,
    }),
    issued: createRedisIssuedCounter(redis),
    terms: createRedisTermsInForce(redis),
    logger: silentLogger,
  });
  const app = buildApp({
    logger: silentLogger,
    registry: new Registry(),
    isAccepting: () => true,
    readinessChecks: {},
    verifier: createJwtVerifier({
      keys: createRemoteJwks({ url: infra.issuer.jwksUrl }),
      issuer: infra.issuer.issuer,
      audience: infra.issuer.audience,
    }),
    catalog,
  });
  const server = await listen(app, 0, "127.0.0.1");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the app listens on no TCP port");
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    databaseReads: () => reads,
    close: () => closeServer(server),
  };
}

const hour = 3_600_000;

/** An event that is open now, as an admin would send it. */
export function openEventBody(overrides: Record<string, unknown> = {}) {
  return {
    name: "Black Friday",
    startsAt: new Date(Date.now() - hour).toISOString(),
    endsAt: new Date(Date.now() + hour).toISOString(),
    ...overrides,
  };
}

export function percentCouponBody(eventId: number, overrides: Record<string, unknown> = {}) {
  return {
    eventId,
    discountType: "PERCENT",
    discountRate: 10,
    maxQuantity: 100,
    validFrom: "2026-11-27T00:00:00.000Z",
    validUntil: "2026-12-31T23:59:59.999Z",
    ...overrides,
  };
}

/** Polls until the check passes; fails with the last value after the deadline. */
export async function eventually<T>(
  read: () => Promise<T>,
  passes: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (passes(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
