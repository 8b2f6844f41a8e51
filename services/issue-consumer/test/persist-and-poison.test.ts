// The consumer on `coupon.issued` against the real broker and database: batches become rows once,
// and records that can never be rows go straight to the dead-letter topic.
import { HEADER } from "@coupon/kafka";
import { observeTopic, type TopicObserver, topicSize } from "@coupon/kafka/testing";
import type { Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestBed,
  issuance,
  issuedRecord,
  type RunningPipeline,
  rowCount,
  startTestPipeline,
  type TestBed,
  waitUntil,
} from "./support.ts";

describe("issue-consumer on coupon.issued", () => {
  let bed: TestBed;
  let producer: Producer;
  let running: RunningPipeline;
  let deadLetters: TopicObserver;

  beforeAll(async () => {
    bed = await createTestBed("persist");
    producer = bed.kafka.producer();
    await producer.connect();
    running = await startTestPipeline(bed, { CONSUMER_BATCH_SIZE: "20" });
    deadLetters = await observeTopic(bed.kafka, bed.topics.dlt);
  });

  afterAll(async () => {
    await deadLetters?.stop();
    await running?.pipeline.stop();
    await producer?.disconnect();
    await bed?.dispose();
  });

  it("when a batch of 50 distinct issuances arrives, then 50 rows are stored with their issuance times", async () => {
    const batch = Array.from({ length: 50 }, (_, i) => issuance(101, 1_000 + i));
    const persistedBefore = await running.counter("issue_consumer_records_persisted_total");

    await producer.send({ topic: bed.topics.issued, messages: batch.map((i) => issuedRecord(i)) });

    await waitUntil(
      "50 rows",
      () => rowCount(bed.prisma, 101),
      (n) => n === 50,
    );
    const rows = await bed.prisma.couponIssue.findMany({ where: { couponId: 101n } });
    expect(rows.map((r) => r.userId.toString()).sort()).toEqual(batch.map((i) => i.userId).sort());
    expect(rows.every((r) => r.status === "ACTIVE")).toBe(true);
    // Each row names the acceptance it comes from and its event.
    const byUser = new Map(batch.map((i) => [i.userId, i]));
    expect(rows.every((r) => r.issueId === byUser.get(r.userId.toString())?.issueId)).toBe(true);
    expect(rows.every((r) => Number(r.eventId) === byUser.get(r.userId.toString())?.eventId)).toBe(true);
    const issuedAt = new Map(batch.map((i) => [i.userId, i.issuedAt]));
    expect(rows.every((r) => r.issuedAt.toISOString() === issuedAt.get(r.userId.toString()))).toBe(true);
    expect((await running.counter("issue_consumer_records_persisted_total")) - persistedBefore).toBe(50);
    // Caught up: each partition that had a batch reports no lag, and the batches were timed.
    const lagOfTopic = async () =>
      (
        (await running.registry.getMetricsAsJSON()).find((m) => m.name === "issue_consumer_lag_records")
          ?.values ?? []
      ).filter((v) => v.labels.topic === bed.topics.issued);
    // The batch is reported once its handler has returned, a moment after its rows are in.
    await expect.poll(async () => (await lagOfTopic()).length).toBeGreaterThan(0);
    const lag = await lagOfTopic();
    const metrics = await running.registry.getMetricsAsJSON();
    expect(lag.every((v) => v.value === 0)).toBe(true);
    const batches = metrics.find((m) => m.name === "issue_consumer_batch_duration_seconds")?.values ?? [];
    const timed = batches.find(
      (v) => (v as { metricName?: string }).metricName?.endsWith("_count") && v.labels.source === "issued",
    );
    expect(timed?.value).toBeGreaterThan(0);
  });

  it("when the same records are delivered again, then the rows stay as they were and each counts as a duplicate", async () => {
    const batch = Array.from({ length: 30 }, (_, i) => issuance(103, 1_000 + i));
    await producer.send({ topic: bed.topics.issued, messages: batch.map((i) => issuedRecord(i)) });
    await waitUntil(
      "30 rows",
      () => rowCount(bed.prisma, 103),
      (n) => n === 30,
    );
    const before = await bed.prisma.couponIssue.findMany({
      where: { couponId: 103n },
      orderBy: { id: "asc" },
    });
    const duplicatesBefore = await running.counter("issue_consumer_records_duplicate_total");

    await producer.send({ topic: bed.topics.issued, messages: batch.map((i) => issuedRecord(i)) });

    await waitUntil(
      "30 more duplicates",
      async () => (await running.counter("issue_consumer_records_duplicate_total")) - duplicatesBefore,
      (n) => n === 30,
    );
    expect(
      await bed.prisma.couponIssue.findMany({ where: { couponId: 103n }, orderBy: { id: "asc" } }),
    ).toEqual(before);
  });

  it("when poison records arrive among valid ones, then each is dead-lettered with its reason and the valid ones are stored", async () => {
    const valid = [1, 2, 3].map((u) => issuance(102, u));
    const poison = [
      { key: "102", value: "{not json", headers: { "x-request-id": "poison-json" } },
      {
        key: "102",
        value: JSON.stringify({ ...issuance(102, 4), userId: "abc" }),
        headers: { "x-request-id": "poison-schema" },
      },
      { key: "999", value: JSON.stringify(issuance(102, 5)), headers: { "x-request-id": "poison-key" } },
    ];
    const messages = [
      ...valid.slice(0, 1).map((i) => issuedRecord(i)),
      ...poison,
      ...valid.slice(1).map((i) => issuedRecord(i)),
    ];

    // One partition per send, so that each record's offset is known from the acknowledgement.
    const sent = [];
    for (const message of messages) {
      const [ack] = await producer.send({
        topic: bed.topics.issued,
        messages: [{ ...message, partition: 0 }],
      });
      sent.push({ message, offset: ack?.baseOffset });
    }

    await waitUntil(
      "3 dead letters",
      () => deadLetters.records.length,
      (n) => n === 3,
    );
    await waitUntil(
      "3 rows",
      () => rowCount(bed.prisma, 102),
      (n) => n === 3,
    );
    const reasons = {
      "poison-json": /not JSON/,
      "poison-schema": /userId/,
      "poison-key": /key "999", expected the coupon id "102"/,
    };
    for (const [requestId, reason] of Object.entries(reasons)) {
      const original = sent.find((s) => s.message.headers["x-request-id"] === requestId);
      const dead = deadLetters.records.find((r) => r.headers["x-request-id"] === requestId);
      expect(dead, requestId).toBeDefined();
      expect(dead?.key).toBe(original?.message.key);
      expect(dead?.value).toBe(original?.message.value);
      expect(dead?.headers[HEADER.errorKind]).toBe("poison");
      expect(dead?.headers[HEADER.error]).toMatch(reason);
      expect(dead?.headers[HEADER.retryAttempt]).toBe("0");
      expect(dead?.headers[HEADER.originalTopic]).toBe(bed.topics.issued);
      expect(dead?.headers[HEADER.originalPartition]).toBe("0");
      expect(dead?.headers[HEADER.originalOffset]).toBe(original?.offset);
      expect(Date.parse(String(dead?.headers[HEADER.deadLetteredAt]))).not.toBeNaN();
      // The operator can follow the request from the issue service to this log line.
      expect(
        running.logs.some(
          (l) => l.request_id === requestId && l.msg === "record parked in the dead-letter topic",
        ),
      ).toBe(true);
    }
    expect(await topicSize(bed.admin, bed.topics.retry)).toBe(0);
    expect(await running.counter("issue_consumer_records_dead_lettered_total", { kind: "poison" })).toBe(3);
    expect(await running.counter("issue_consumer_records_retried_total")).toBe(0);
  });
});
