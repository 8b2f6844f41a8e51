// The database goes away (a TCP proxy in front of the test MariaDB is closed, cutting the pooled
// connections and refusing new ones) and comes back: nothing is parked, nothing is lost. Or it
// stalls longer than the Kafka session timeout: the consumer keeps its membership.
import { parseDatabaseUrl } from "@coupon/db";
import { topicSize } from "@coupon/kafka/testing";
import { TcpProxy } from "@coupon/testing";
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

describe("issue-consumer when the database is briefly unavailable", () => {
  let bed: TestBed;
  let producer: Producer;
  let running: RunningPipeline;
  let proxy: TcpProxy;

  beforeAll(async () => {
    bed = await createTestBed("outage");
    const { host, port } = parseDatabaseUrl(bed.database.url);
    proxy = new TcpProxy({ host, port });
    await proxy.open();
    const viaProxy = new URL(bed.database.url);
    viaProxy.port = String(proxy.port);
    producer = bed.kafka.producer();
    await producer.connect();
    running = await startTestPipeline(bed, { DATABASE_URL: viaProxy.toString() });
  });

  afterAll(async () => {
    await running?.pipeline.stop();
    await proxy?.close();
    await producer?.disconnect();
    await bed?.dispose();
  });

  it("when the database drops its connections and refuses new ones, then the consumer waits without parking anything, and stores everything once it is back", async () => {
    // Arrange: the consumer works through the proxy and holds pooled connections.
    await producer.send({ topic: bed.topics.issued, messages: [issuedRecord(issuance(301, 1))] });
    await waitUntil(
      "the first row",
      () => rowCount(bed.prisma, 301),
      (n) => n === 1,
    );

    // Act: the database disappears while records arrive.
    await proxy.close();
    const batch = Array.from({ length: 40 }, (_, i) => issuance(302, 100 + i));
    await producer.send({ topic: bed.topics.issued, messages: batch.map((i) => issuedRecord(i)) });

    // Assert: several tries failed and were backed off; nothing was parked or sent for retry.
    await waitUntil(
      "three failed tries",
      () => running.counter("issue_consumer_database_unavailable_total"),
      (n) => n >= 3,
    );
    expect(await rowCount(bed.prisma, 302)).toBe(0);
    expect(await topicSize(bed.admin, bed.topics.retry)).toBe(0);
    expect(await topicSize(bed.admin, bed.topics.dlt)).toBe(0);

    // Act: the database comes back.
    await proxy.open();

    // Assert: every record becomes a row, still without a retry or a dead letter.
    await waitUntil(
      "40 rows",
      () => rowCount(bed.prisma, 302),
      (n) => n === 40,
    );
    expect(await topicSize(bed.admin, bed.topics.retry)).toBe(0);
    expect(await topicSize(bed.admin, bed.topics.dlt)).toBe(0);
    expect(await running.counter("issue_consumer_records_dead_lettered_total")).toBe(0);
    expect(
      running.logs.some(
        (l) => l.msg === "database unavailable, the batch will be tried again" && l.level === "warn",
      ),
    ).toBe(true);
  });

  it("when the database stalls for longer than the session timeout while a chunk is stored, then the consumer keeps its membership and stores the chunk once", async () => {
    // Arrange: the consumer is a member of its group and holds connections through the proxy.
    const group = bed.env.KAFKA_CONSUMER_GROUP ?? "";
    const membersOf = async () =>
      (await bed.admin.describeGroups([group])).groups[0]?.members.map((m) => m.memberId) ?? [];
    await producer.send({ topic: bed.topics.issued, messages: [issuedRecord(issuance(303, 1))] });
    await waitUntil(
      "the first row",
      () => rowCount(bed.prisma, 303),
      (n) => n === 1,
    );
    const before = await membersOf();
    const sessionTimeoutMs = Number(bed.env.KAFKA_SESSION_TIMEOUT_MS);

    // Act: the database hangs mid-INSERT for one and a half session timeouts, then answers again.
    proxy.stall();
    const stalledAt = await rowCount(bed.prisma, 303);
    const batch = Array.from({ length: 20 }, (_, i) => issuance(303, 100 + i));
    await producer.send({ topic: bed.topics.issued, messages: batch.map((i) => issuedRecord(i)) });
    await new Promise((settle) => setTimeout(settle, sessionTimeoutMs * 1.5));
    const duringStall = await rowCount(bed.prisma, 303);
    proxy.resume();

    // Assert: the same member (no eviction, so no other member read the chunk again) stores it.
    await waitUntil(
      "21 rows",
      () => rowCount(bed.prisma, 303),
      (n) => n === 21,
    );
    expect(stalledAt).toBe(1);
    expect(duringStall).toBe(1);
    expect(before).toHaveLength(1);
    expect(await membersOf()).toEqual(before);
    expect(await running.counter("issue_consumer_records_duplicate_total")).toBe(0);
  });
});
