// The service as a real process, killed with SIGKILL while it works through a backlog, then
// restarted: offsets are committed only after the rows, so every record becomes exactly one row.
import { type ServiceProcess, startService } from "@coupon/testing";
import type { Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestBed, issuance, issuedRecord, type TestBed, waitUntil } from "./support.ts";

const RECORDS = 3_000;

describe("issue-consumer killed with SIGKILL mid-batch", () => {
  let bed: TestBed;
  let producer: Producer;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    bed = await createTestBed("crash");
    producer = bed.kafka.producer();
    await producer.connect();
  });

  afterAll(async () => {
    if (service?.child.exitCode === null) await service.stop("SIGKILL");
    await producer?.disconnect();
    await bed?.dispose();
  });

  const count = () => bed.prisma.couponIssue.count();

  it("when it is killed while storing a backlog and restarted, then every record is stored exactly once", async () => {
    // Arrange: a backlog over three coupons (three partitions' worth of keys), stored in small chunks
    // so that the kill lands between an insert and its commit more often than not.
    const sent = Array.from({ length: RECORDS }, (_, i) => issuance(401 + (i % 3), 10_000 + i));
    for (let i = 0; i < RECORDS; i += 500) {
      await producer.send({
        topic: bed.topics.issued,
        messages: sent.slice(i, i + 500).map((x) => issuedRecord(x)),
      });
    }
    const env = { ...bed.env, CONSUMER_BATCH_SIZE: "25" };

    // Act: kill it once it has stored some, restart it.
    service = await startService("issue-consumer", env);
    const atKill = await waitUntil("the first rows", count, (n) => n >= 100);
    await service.stop("SIGKILL");
    const afterKill = await count();
    service = await startService("issue-consumer", env);

    // Assert: it was killed with work left, and the restart stored exactly the records sent.
    expect(afterKill).toBeGreaterThanOrEqual(atKill);
    expect(afterKill).toBeLessThan(RECORDS);
    await waitUntil("every row", count, (n) => n >= RECORDS, 40_000);
    const rows = await bed.prisma.couponIssue.findMany({ select: { couponId: true, userId: true } });
    const stored = rows.map((r) => `${r.couponId}/${r.userId}`).sort();
    expect(stored).toEqual(sent.map((x) => `${x.couponId}/${x.userId}`).sort());

    // A graceful stop commits what it stored: the group has nothing left to read.
    const exit = await service.stop("SIGTERM");
    expect(exit.code, exit.stderr).toBe(0);
    const [committed] = await bed.admin.fetchOffsets({
      groupId: bed.env.KAFKA_CONSUMER_GROUP ?? "",
      topics: [bed.topics.issued],
    });
    const ends = await bed.admin.fetchTopicOffsets(bed.topics.issued);
    expect(committed?.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual(
      ends.map((p) => [p.partition, p.high]).sort(),
    );
  });
});
