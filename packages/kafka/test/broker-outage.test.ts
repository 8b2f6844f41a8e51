// A broker restart longer than kafkajs's retries: kafkajs gives up on a consumer whose rejoin
// finds no group coordinator, and without a restart of our own nothing is consumed afterwards.
// That rejoin only fails inside a timing window of the broker going down or coming up, so here
// restartOnFailure stands in for kafkajs giving up: it then gives up on every crash of the outage.
import { randomUUID } from "node:crypto";
import { ownKafka } from "@coupon/testing";
import type { Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafka, type RetryingConsumer, startRetryingConsumer } from "../src/index.ts";
import { memoryLogger } from "../src/testing.ts";

const broker = ownKafka("kafka-broker-outage", 15000);
const runId = randomUUID().slice(0, 8);
const topics = {
  main: `test.outage.${runId}`,
  retry: `test.outage.${runId}.retry`,
  deadLetter: `test.outage.${runId}.dlt`,
};
const restarting = "Kafka consumer stopped on a transient error; starting it again";

describe("a retrying consumer while its only broker is down", () => {
  const kafka = createKafka({
    brokers: broker.brokers,
    clientId: `outage-${runId}`,
    logLevel: "error",
    retry: { retries: 2, initialRetryTime: 100, restartOnFailure: async () => false },
  });
  const stored: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const crashes: Error[] = [];
  const restarts: string[] = [];
  let consumer: RetryingConsumer | undefined;
  let producer: Producer | undefined;

  beforeAll(async () => {
    await broker.start();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: topics.main }, { topic: topics.retry }, { topic: topics.deadLetter }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    consumer = await startRetryingConsumer({
      kafka,
      topics,
      groups: { main: `outage-${runId}`, retry: `outage-${runId}-retry` },
      parse: ({ value }) => ({ ok: true, value: String(value) }),
      store: async (values) => {
        stored.push(...values);
        return { available: true, rejected: [] };
      },
      maxWaitTimeInMs: 100,
      sessionTimeout: 6_000,
      restartBackoff: { initialMs: 200, maxMs: 1_000 },
      logger: memoryLogger(logs),
      events: { restarted: (source) => void restarts.push(source) },
      onCrash: (error) => void crashes.push(error),
    });
    producer = kafka.producer();
    await producer.connect();
  }, 240_000);

  afterAll(async () => {
    await producer?.disconnect();
    await consumer?.stop();
    await broker.stop();
  }, 120_000);

  it("when the broker is back, then the consumer consumes again instead of crashing for good", async () => {
    await producer?.send({ topic: topics.main, messages: [{ value: "before" }] });
    await expect.poll(() => stored, { timeout: 30_000 }).toContain("before");

    await broker.stop();
    await expect.poll(() => restarts.length + crashes.length, { timeout: 120_000 }).toBeGreaterThan(0);
    await broker.start();

    await producer?.send({ topic: topics.main, messages: [{ value: "after" }] });
    await expect.poll(() => stored, { timeout: 120_000 }).toContain("after");
    expect(crashes).toEqual([]);
    expect(logs).toContainEqual(expect.objectContaining({ level: "warn", msg: restarting }));
  }, 360_000);
});
