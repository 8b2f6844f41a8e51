// The user service in-process against the test instance's MariaDB and Redis: each test file gets
// its own database and Redis key prefix, and starts apps on port 0 from an environment, through the
// same configuration parsing and wiring as server.ts.
import { generateKeyPairSync, type KeyObject, randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeJwt } from "@coupon/auth";
import { parseConfig } from "@coupon/config";
import { createPrismaClient, type PrismaClient } from "@coupon/db";
import { createTestDatabase, type TestDatabase } from "@coupon/db/testing";
import { closeServer, type HttpApp, listen } from "@coupon/http";
import { createLogger } from "@coupon/logging";
import { closeRedis, createRedis, type Redis } from "@coupon/redis";
import { testEndpoints } from "@coupon/testing";
import { Registry } from "prom-client";
import request from "supertest";
import { afterAll, beforeAll } from "vitest";
import { buildApp } from "../src/app.ts";
import { type Config, configSchema } from "../src/config.ts";
import { type UserService, wireUserService } from "../src/wiring.ts";

/** Cheap argon2id so that tests stay fast; production parameters come from the defaults. */
export const FAST_ARGON2 = { ARGON2_MEMORY_KIB: "1024", ARGON2_TIME_COST: "1", ARGON2_PARALLELISM: "1" };

export const newRsaKey = (): KeyObject => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;

export const privatePem = (key: KeyObject) => String(key.export({ type: "pkcs8", format: "pem" }));

export interface UserServiceApp {
  app: HttpApp;
  config: Config;
  service: UserService;
}

export interface RunningUserService extends UserServiceApp {
  baseUrl: string;
  http: () => ReturnType<typeof request>;
}

export type EnvOverrides = Record<string, string | undefined>;

export interface UserServiceTestContext {
  db: TestDatabase;
  prisma: PrismaClient;
  /** DATABASE_URL, REDIS_URL with this file's key prefix, fast argon2 and a signing key. */
  env: Record<string, string>;
  /** Builds an app from `env` plus overrides (undefined unsets a variable), without listening. */
  build(overrides?: EnvOverrides, now?: () => number): UserServiceApp;
  /** Builds an app and serves it on a loopback port until the file's tests end. */
  start(overrides?: EnvOverrides, now?: () => number): Promise<RunningUserService>;
}

export function useUserServiceTestContext(label: string): UserServiceTestContext {
  const servers: Server[] = [];
  const appClients: Redis[] = [];
  let cleanup: Redis | undefined;
  const prefix = `test:${label}:${randomUUID()}:`;
  const ctx = {} as UserServiceTestContext;

  beforeAll(async () => {
    ctx.db = await createTestDatabase({ serverUrl: testEndpoints().databaseServerUrl, label });
    ctx.prisma = createPrismaClient(ctx.db.url, { poolSize: 4 });
    const { redisUrl } = testEndpoints();
    cleanup = createRedis(
      { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, REDIS_SENTINEL_MASTER: "coupon-redis" },
      "user-test",
    );
    ctx.env = {
      DATABASE_URL: ctx.db.url,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      JWT_PRIVATE_KEY: privatePem(newRsaKey()),
      // Every test signs up from the loopback address; the limit has its own test.
      SIGN_UP_MAX_PER_ADDRESS: "100000",
      ...FAST_ARGON2,
    };
  });

  afterAll(async () => {
    await Promise.all(servers.map(closeServer));
    await Promise.all(appClients.map(closeRedis));
    if (cleanup) {
      const keys = await cleanup.keys(`${prefix}*`);
      if (keys.length > 0) await cleanup.del(...keys.map((key) => key.slice(prefix.length)));
      await closeRedis(cleanup);
    }
    await ctx.prisma?.$disconnect();
    await ctx.db?.drop();
  });

  ctx.build = (overrides = {}, now = Date.now) => {
    const config = parseConfig(configSchema, { ...ctx.env, ...overrides });
    // Each app has its own Redis connection from its own configuration, as each replica has.
    const redis = createRedis(config, "user-test-app");
    appClients.push(redis);
    const service = wireUserService(config, { prisma: ctx.prisma, redis }, now);
    const app = buildApp({
      logger: createLogger({ service: "user", level: "silent" }),
      registry: new Registry(),
      isAccepting: () => true,
      readinessChecks: {},
      accounts: service.accounts,
      verifier: service.verifier,
      jwks: service.keyRing.jwks,
      trustProxy: config.TRUST_PROXY,
    });
    return { app, config, service };
  };

  ctx.start = async (overrides, now) => {
    const built = ctx.build(overrides, now);
    const server = await listen(built.app, 0, "127.0.0.1");
    servers.push(server);
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { ...built, baseUrl, http: () => request(baseUrl) };
  };

  return ctx;
}

export const uniqueEmail = (name = "user") => `${name}-${randomUUID().slice(0, 8)}@example.com`;

/** Header and claims of a token, unverified: for asserting what the service put in it. */
export function tokenParts(token: string) {
  const decoded = decodeJwt(token);
  if (!decoded) throw new Error(`not a JWT: ${token}`);
  return { header: decoded.header, claims: decoded.payload };
}
