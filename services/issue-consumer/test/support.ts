// Helpers of the component tests: topics of their own per test file, the pipeline started in-process
// against the real broker and database, and a way to wait until something happens (topics are
// watched with @coupon/kafka/testing).
import { randomUUID } from "node:crypto";
import type { CouponIssued } from "@coupon/contracts";
import { createPrismaClient, type PrismaClient } from "@coupon/db";
import { createTestDatabase, type TestDatabase } from "@coupon/db/testing";
import { createKafka } from "@coupon/kafka";
import { createLogger, type Logger } from "@coupon/logging";
import { testEndpoints } from "@coupon/testing";
import type { Admin, IHeaders, Kafka } from "kafkajs";
import { Registry } from "prom-client";
import { type Config, configSchema } from "../src/config.ts";
import { type Pipeline, startPipeline } from "../src/pipeline.ts";

export interface TestTopics {
  issued: string;
  retry: string;
  dlt: string;
}

/** Everything one test file needs: its own topics, groups and database, and clients to them. */
export interface TestBed {
  runId: string;
  topics: TestTopics;
  kafka: Kafka;
  admin: Admin;
  database: TestDatabase;
  /** The test's own client (text protocol, so that it can run DDL such as CREATE TRIGGER). */
  prisma: PrismaClient;
  /** Variables for the service, pointing at this bed; spread overrides over them. */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

export async function createTestBed(label: string): Promise<TestBed> {
  const runId = randomUUID().slice(0, 8);
  const brokers = testEndpoints().kafkaBrokers;
  const topics = {
    issued: `test.${label}.${runId}.issued`,
    retry: `test.${label}.${runId}.retry`,
    dlt: `test.${label}.${runId}.dlt`,
  };
  const kafka = createKafka({ brokers, clientId: `test-${label}-${runId}`, logLevel: "error" });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: topics.issued, numPartitions: 3 },
      { topic: topics.retry, numPartitions: 2 },
      { topic: topics.dlt, numPartitions: 1 },
    ],
    waitForLeaders: true,
  });
  const database = await createTestDatabase({
    serverUrl: testEndpoints().databaseServerUrl,
    label: `consumer_${label}`,
  });
  const prisma = createPrismaClient(database.url, { poolSize: 2, textProtocol: true });
  const groups = {
    KAFKA_CONSUMER_GROUP: `test-${label}-${runId}`,
    KAFKA_RETRY_CONSUMER_GROUP: `test-${label}-${runId}-retry`,
    KAFKA_REPLAY_CONSUMER_GROUP: `test-${label}-${runId}-replay`,
  };
  const env = {
    KAFKA_BROKERS: brokers.join(","),
    KAFKA_ISSUED_TOPIC: topics.issued,
    KAFKA_RETRY_TOPIC: topics.retry,
    KAFKA_DLT_TOPIC: topics.dlt,
    ...groups,
    // Short fetch waits and backoffs keep the tests quick; they change no behaviour.
    KAFKA_MAX_WAIT_MS: "100",
    KAFKA_SESSION_TIMEOUT_MS: "6000",
    RETRY_BACKOFF_MS: "100",
    RETRY_BACKOFF_MAX_MS: "400",
    DATABASE_BACKOFF_MS: "100",
    DATABASE_BACKOFF_MAX_MS: "500",
    DATABASE_ACQUIRE_TIMEOUT_MS: "1000",
    DATABASE_URL: database.url,
  };
  return {
    runId,
    topics,
    kafka,
    admin,
    database,
    prisma,
    env,
    async dispose() {
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => {});
      await admin.deleteGroups(Object.values(groups)).catch(() => {});
      await admin.disconnect();
      await prisma.$disconnect();
      await database.drop();
    },
  };
}

export interface RunningPipeline {
  pipeline: Pipeline;
  registry: Registry;
  /** Log lines written so far, parsed. */
  logs: Record<string, unknown>[];
  /** Current value of a counter, summed over its labels or for the labels given. */
  counter(name: string, labels?: Record<string, string>): Promise<number>;
}

/** Starts the service's consumers in this process, as server.ts does, with the bed's variables. */
export async function startTestPipeline(
  bed: TestBed,
  overrides: Record<string, string> = {},
): Promise<RunningPipeline> {
  const config: Config = configSchema.parse({ ...bed.env, ...overrides });
  const logs: Record<string, unknown>[] = [];
  const logger: Logger = createLogger({
    service: "issue-consumer",
    level: "info",
    destination: { write: (line: string) => void logs.push(JSON.parse(line)) },
  });
  const prisma = createPrismaClient(config.DATABASE_URL, {
    poolSize: config.DATABASE_POOL_SIZE,
    acquireTimeoutMs: config.DATABASE_ACQUIRE_TIMEOUT_MS,
  });
  const registry = new Registry();
  const pipeline = await startPipeline({
    config,
    logger,
    kafka: createKafka({
      brokers: config.KAFKA_BROKERS,
      clientId: `${bed.runId}-consumer`,
      logLevel: "error",
    }),
    prisma,
    registry,
    // A crash kafkajs gives up on makes stop() reject, which fails the test file's teardown.
    onCrash: () => {},
  });
  return {
    pipeline: {
      async stop() {
        try {
          await pipeline.stop();
        } finally {
          await prisma.$disconnect();
        }
      },
    },
    registry,
    logs,
    async counter(name, labels = {}) {
      const metric = await registry.getSingleMetric(name)?.get();
      return (metric?.values ?? [])
        .filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))
        .reduce((sum, v) => sum + v.value, 0);
    },
  };
}

export function issuance(couponId: number, userId: number | string): CouponIssued {
  return {
    issueId: `${couponId}-${userId}`,
    couponId,
    eventId: 1,
    userId: String(userId),
    issuedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, Number(userId) % 1000)).toISOString(),
  };
}

/** A `coupon.issued` record as the outbox relay writes it. */
export function issuedRecord(value: CouponIssued, headers: IHeaders = {}) {
  return { key: String(value.couponId), value: JSON.stringify(value), headers };
}

/** Polls until `condition` holds; fails with `what` and the last observed value otherwise. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T> | T,
  condition: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (condition(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(value)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function rowCount(prisma: PrismaClient, couponId: number): Promise<number> {
  return prisma.couponIssue.count({ where: { couponId: BigInt(couponId) } });
}
