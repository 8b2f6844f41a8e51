import { execFile } from "node:child_process";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { createTestDatabase, type TestDatabase } from "@coupon/db/testing";
import { createKafka } from "@coupon/kafka";
import { type FireResult, fireAll, mintTokens } from "@coupon/loadgen";
import { repoRoot, type ServiceProcess, startService, testEndpoints } from "@coupon/testing";

const run = promisify(execFile);

export const ADMIN = { email: "admin@system.test", password: "system-admin-pw" };

export type ServiceName = "user" | "coupon" | "issue" | "consumer";

export interface SystemOptions {
  /** The MariaDB server to make the system's database on; the test instance's unless given. */
  databaseServerUrl?: string;
  /** The services' DATABASE_URL from the database's own, e.g. through a proxy a test can cut. */
  serviceDatabaseUrl?: (url: string) => string;
  /** How the services reach Redis (REDIS_URL or REDIS_SENTINELS…); the test instance's unless given. */
  redisEnv?: Record<string, string>;
  /** Fixed ports, e.g. for an edge in front; any free port unless given. */
  ports?: Partial<Record<ServiceName, number>>;
  /** More environment per service. */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
}

export interface System {
  database: TestDatabase;
  privateKeyPem: string;
  /** The Redis key prefix every service of this system uses. */
  redisKeyPrefix: string;
  services: Record<ServiceName, ServiceProcess>;
  /**
   * Stops a service with the signal (SIGKILL: a crash) and starts it again with the same
   * environment plus `env`, on the same port when it has a fixed one.
   */
  restart(
    name: ServiceName,
    options?: { signal?: NodeJS.Signals; env?: Record<string, string> },
  ): Promise<void>;
  /** Asks a service, failing loudly on an unexpected status. */
  call<T>(
    service: "user" | "coupon" | "issue",
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<T>;
  adminToken(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The four services as separate processes, wired like ./dev up wires them, on their own database,
 * Redis key prefix and Kafka topics, so a system test file runs beside the others.
 */
export async function startSystem(
  label: string,
  kafkaBrokers: string[],
  options: SystemOptions = {},
): Promise<System> {
  const id = randomUUID().slice(0, 8);
  const database = await createTestDatabase({
    serverUrl: options.databaseServerUrl ?? testEndpoints().databaseServerUrl,
    label: `system_${label}`,
  });
  const keyDir = await mkdtemp(join(tmpdir(), "system-keys-"));
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const keyFile = join(keyDir, "signing.pem");
  await writeFile(keyFile, privateKeyPem, { mode: 0o600 });

  const topics = { issued: `system.${id}.issued`, retry: `system.${id}.retry`, dlt: `system.${id}.dlt` };
  const admin = createKafka({ brokers: kafkaBrokers, clientId: `system-${id}` }).admin();
  await admin.connect();
  await admin.createTopics({
    topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 3 })),
    waitForLeaders: true,
  });
  await admin.disconnect();

  const serviceDatabaseUrl = options.serviceDatabaseUrl?.(database.url) ?? database.url;
  const redisKeyPrefix = `system:${id}:`;
  const redis = {
    ...(options.redisEnv ?? { REDIS_URL: testEndpoints().redisUrl }),
    REDIS_KEY_PREFIX: redisKeyPrefix,
  };
  const common = { LOG_LEVEL: "info", ARGON2_MEMORY_KIB: "4096", ARGON2_TIME_COST: "1" };
  await run(process.execPath, [resolve(repoRoot, "services/user/src/commands/create-admin.ts")], {
    env: { ...common, DATABASE_URL: database.url, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
  });

  const portOf = (name: ServiceName): Record<string, string> => {
    const port = options.ports?.[name];
    return port ? { PORT: String(port) } : {};
  };
  const envs = {} as Record<ServiceName, Record<string, string>>;
  const services = {} as Record<ServiceName, ServiceProcess>;
  const launch = async (name: ServiceName) => {
    services[name] = await startService(name === "consumer" ? "issue-consumer" : name, envs[name]);
  };

  envs.user = {
    ...common,
    ...redis,
    DATABASE_URL: serviceDatabaseUrl,
    JWT_PRIVATE_KEY_FILE: keyFile,
    ...portOf("user"),
    ...options.env?.user,
  };
  await launch("user");
  const jwks = { JWT_JWKS_URL: `${services.user.baseUrl}/.well-known/jwks.json` };
  envs.coupon = {
    ...common,
    ...redis,
    ...jwks,
    DATABASE_URL: serviceDatabaseUrl,
    ...portOf("coupon"),
    ...options.env?.coupon,
  };
  await launch("coupon");
  envs.issue = {
    ...common,
    ...redis,
    ...jwks,
    COUPON_SERVICE_URL: services.coupon.baseUrl,
    KAFKA_BROKERS: kafkaBrokers.join(","),
    KAFKA_ISSUED_TOPIC: topics.issued,
    RELAY_CONSUMER: `system-${id}`,
    RELAY_BLOCK_MS: "200",
    RELAY_MAX_BACKOFF_MS: "1000",
    ...portOf("issue"),
    ...options.env?.issue,
  };
  await launch("issue");
  envs.consumer = {
    ...common,
    DATABASE_URL: serviceDatabaseUrl,
    KAFKA_BROKERS: kafkaBrokers.join(","),
    KAFKA_ISSUED_TOPIC: topics.issued,
    KAFKA_RETRY_TOPIC: topics.retry,
    KAFKA_DLT_TOPIC: topics.dlt,
    KAFKA_CONSUMER_GROUP: `system-${id}`,
    KAFKA_RETRY_CONSUMER_GROUP: `system-${id}-retry`,
    KAFKA_MAX_WAIT_MS: "100",
    ...portOf("consumer"),
    ...options.env?.consumer,
  };
  await launch("consumer");

  async function call<T>(
    service: "user" | "coupon" | "issue",
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<T> {
    const res = await fetch(`${services[service].baseUrl}${path}`, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  return {
    database,
    privateKeyPem,
    redisKeyPrefix,
    services,
    async restart(name, { signal = "SIGTERM", env = {} } = {}) {
      await services[name].stop(signal);
      envs[name] = { ...envs[name], ...env };
      await launch(name);
    },
    call,
    async adminToken() {
      const login = await call<{ token: { accessToken: string } }>("user", "POST", "/users/login", ADMIN);
      return login.token.accessToken;
    },
    async stop() {
      const exits = await Promise.all(
        Object.entries(services).map(async ([name, service]) => ({
          name,
          ...(await service.stop("SIGTERM")),
        })),
      );
      await rm(keyDir, { recursive: true, force: true });
      await database.drop();
      // The services log to stdout: its last lines say why one stopped as it did.
      const failed = exits
        .filter((exit) => exit.code !== 0)
        .map(
          (exit) =>
            `${exit.name} exited with ${exit.code ?? exit.signal}:\n${exit.stderr}` +
            exit.stdout.trimEnd().split("\n").slice(-15).join("\n"),
        );
      if (failed.length > 0) throw new Error(`services did not stop cleanly:\n${failed.join("\n\n")}`);
    },
  };
}

/** Opens an event now with one coupon of the given stock, as an admin would. */
export async function openFlashSale(
  system: System,
  stock: number,
): Promise<{ eventId: number; couponId: number }> {
  const token = await system.adminToken();
  const now = Date.now();
  const event = await system.call<{ eventId: number }>(
    "coupon",
    "POST",
    "/events",
    {
      name: "system test",
      startsAt: new Date(now - 1_000).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
    },
    token,
  );
  const coupon = await system.call<{ couponId: number }>(
    "coupon",
    "POST",
    "/coupons",
    {
      eventId: event.eventId,
      discountType: "PERCENT",
      discountRate: 10,
      maxQuantity: stock,
      validFrom: new Date(now).toISOString(),
      validUntil: new Date(now + 86_400_000).toISOString(),
    },
    token,
  );
  return { eventId: event.eventId, couponId: coupon.couponId };
}

/** Tokens of the users firstUserId, firstUserId + 1, …, signed with the system's key as the user service signs them. */
export function userTokens(system: System, firstUserId: number, count: number): Promise<string[]> {
  return mintTokens({
    privateKeyPem: system.privateKeyPem,
    issuer: "coupon-user-service",
    audience: "coupon-platform",
    firstUserId,
    count,
    expiresInSec: 600,
  });
}

/** One POST /coupon-issues for the coupon per token, straight to the issue service, `concurrency` at a time. */
export async function claimAll(
  system: System,
  sale: { eventId: number; couponId: number },
  tokens: readonly string[],
  concurrency: number,
): Promise<FireResult[]> {
  const body = JSON.stringify(sale);
  const { results } = await fireAll({
    origin: system.services.issue.baseUrl,
    path: "/coupon-issues",
    concurrency,
    requests: tokens.map((token) => ({ token, body })),
  });
  return results;
}
