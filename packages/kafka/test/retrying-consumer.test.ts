// A second consumer of a `coupon.issued`-shaped topic, built over startRetryingConsumer against the
// real broker: it "e-mails" each issuance (into an in-memory outbox, the store under the Kafka
// machinery this test is about), retries what the mailer refuses through its retry topic, and parks
// poison and exhausted records in its dead-letter topic.
import { randomUUID } from "node:crypto";
import { testEndpoints } from "@coupon/testing";
import type { Admin, Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createKafka,
  HEADER,
  type Parsed,
  type RetryingConsumer,
  startRetryingConsumer,
} from "../src/index.ts";
import { memoryLogger, observeTopic, type TopicObserver, topicSize } from "../src/testing.ts";

interface Issued {
  couponId: number;
  userId: string;
}

const runId = randomUUID().slice(0, 8);
const topics = {
  main: `test.mailer.${runId}`,
  retry: `test.mailer.${runId}.retry`,
  deadLetter: `test.mailer.${runId}.dlt`,
};
const groups = { main: `test-mailer-${runId}`, retry: `test-mailer-${runId}-retry` };
const REFUSING_USER = "666";

function parseIssued(value: string | undefined): Parsed<Issued> {
  try {
    const { couponId, userId } = JSON.parse(value ?? "");
    if (typeof couponId === "number" && typeof userId === "string")
      return { ok: true, value: { couponId, userId } };
    return { ok: false, reason: "not an issuance" };
  } catch {
    return { ok: false, reason: "not JSON" };
  }
}

describe("a consumer with retry and dead-letter topics over packages/kafka", () => {
  const kafka = createKafka({
    brokers: testEndpoints().kafkaBrokers,
    clientId: `mailer-${runId}`,
    logLevel: "error",
  });
  const outbox: Issued[] = [];
  const logs: Record<string, unknown>[] = [];
  const crashes: Error[] = [];
  let mailerDown = true;
  let admin: Admin;
  let producer: Producer;
  let mailer: RetryingConsumer;
  let retries: TopicObserver;
  let deadLetters: TopicObserver;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: topics.main, numPartitions: 2 },
        { topic: topics.retry, numPartitions: 2 },
        { topic: topics.deadLetter, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    producer = kafka.producer();
    await producer.connect();
    retries = await observeTopic(kafka, topics.retry);
    deadLetters = await observeTopic(kafka, topics.deadLetter);

    // The whole consumer: parse, store, and the knobs that keep a test quick.
    mailer = await startRetryingConsumer({
      kafka,
      topics,
      groups,
      parse: ({ value }) => parseIssued(value),
      store: async (issued) => {
        if (mailerDown) {
          mailerDown = false;
          return { available: false, error: "SMTP server unreachable" };
        }
        outbox.push(...issued.filter((i) => i.userId !== REFUSING_USER));
        const refused = issued.flatMap((i, index) =>
          i.userId === REFUSING_USER ? [{ index, error: "mailbox full" }] : [],
        );
        return { available: true, rejected: refused };
      },
      retryPolicy: { maxAttempts: 2, backoff: { initialMs: 100, maxMs: 200 } },
      unavailableBackoff: { initialMs: 100, maxMs: 100 },
      maxWaitTimeInMs: 100,
      sessionTimeout: 6_000,
      names: { store: "mailer", value: "mail" },
      logger: memoryLogger(logs),
      onCrash: (error) => void crashes.push(error),
    });
  }, 60_000);

  afterAll(async () => {
    await mailer?.stop();
    await retries?.stop();
    await deadLetters?.stop();
    await producer?.disconnect();
    if (admin) {
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => {});
      await admin.deleteGroups([...Object.values(groups)]).catch(() => {});
      await admin.disconnect();
    }
  }, 60_000);

  it("when issuances, one the mailer refuses and one poison arrive while the mailer is down, then the rest is mailed once, the refused one is retried twice and parked, the poison parked at once, and every offset is committed", async () => {
    const issued = ["1", "2", "3"].map((userId) => ({ couponId: 7, userId }));
    const refused = { couponId: 7, userId: REFUSING_USER };
    const request = {
      "x-request-id": "req-mail",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    };
    const [ack] = await producer.send({
      topic: topics.main,
      messages: [...issued, refused].map((i) => ({
        key: "7",
        value: JSON.stringify(i),
        partition: 0,
        headers: i === refused ? request : {},
      })),
    });
    await producer.send({ topic: topics.main, messages: [{ key: "7", value: "{not json", partition: 1 }] });

    await expect.poll(() => deadLetters.records.length, { timeout: 30_000 }).toBe(2);

    expect(outbox).toEqual(issued);
    expect(logs).toContainEqual(
      expect.objectContaining({ level: "warn", msg: "mailer unavailable, the batch will be tried again" }),
    );
    const parked = deadLetters.records.find((r) => r.value === JSON.stringify(refused));
    expect(parked?.key).toBe("7");
    expect(parked?.headers).toMatchObject({
      ...request,
      [HEADER.errorKind]: "rejected",
      [HEADER.error]: "mailbox full",
      [HEADER.retryAttempt]: "2",
      [HEADER.originalTopic]: topics.main,
      [HEADER.originalPartition]: "0",
      [HEADER.originalOffset]: String(Number(ack?.baseOffset) + 3),
    });
    const passes = retries.records.filter((r) => r.value === JSON.stringify(refused));
    expect(passes.map((r) => r.headers[HEADER.retryAttempt])).toEqual(["1", "2"]);
    expect(passes.every((r) => r.headers["x-request-id"] === "req-mail")).toBe(true);
    const poison = deadLetters.records.find((r) => r.value === "{not json");
    expect(poison?.headers).toMatchObject({
      [HEADER.errorKind]: "poison",
      [HEADER.error]: "not JSON",
      [HEADER.retryAttempt]: "0",
      [HEADER.originalPartition]: "1",
    });
    expect(retries.records.some((r) => r.value === "{not json")).toBe(false);
    expect(logs).toContainEqual(
      expect.objectContaining({
        msg: "record parked in the dead-letter topic",
        request_id: "req-mail",
        trace_id: "0af7651916cd43dd8448eb211c80319c",
        kind: "rejected",
      }),
    );
    expect(await topicSize(admin, topics.retry)).toBe(2);
    // Both groups committed up to the end of their topics: a restart reads nothing twice.
    for (const [groupId, topic] of [
      [groups.main, topics.main],
      [groups.retry, topics.retry],
    ] as const) {
      await expect.poll(async () => committedLag(admin, groupId, topic), { timeout: 10_000 }).toBe(0);
    }
    expect(crashes).toEqual([]);
  }, 60_000);
});

/** Records of `topic` past what `groupId` committed. */
async function committedLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return ends.reduce((lag, { partition, high }) => {
    const offset = Number(committed?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
    return lag + Number(high) - Math.max(offset, 0);
  }, 0);
}
