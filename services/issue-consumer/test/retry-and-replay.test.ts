// Records the database really rejects (a trigger that SIGNALs for two users) go through the retry
// topic RETRY_MAX_ATTEMPTS times, are parked with the last error, and the replay command brings them
// back once the cause is gone.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
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

const REJECTED_USERS = [666, 667] as const;
const replayCommand = resolve(import.meta.dirname, "../src/commands/replay-dlt.ts");

describe("issue-consumer when the database rejects records", () => {
  let bed: TestBed;
  let producer: Producer;
  let running: RunningPipeline;
  let retries: TopicObserver;
  let deadLetters: TopicObserver;

  const replay = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)(process.execPath, [replayCommand, ...args], {
      env: { PATH: process.env.PATH ?? "", ...bed.env },
      timeout: 60_000,
    });
    return stdout;
  };

  beforeAll(async () => {
    bed = await createTestBed("retry");
    await bed.prisma.$executeRawUnsafe(`
      CREATE TRIGGER reject_one_user BEFORE INSERT ON coupon_issues FOR EACH ROW
      IF NEW.user_id IN (${REJECTED_USERS.join(", ")}) THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test trigger';
      END IF`);
    producer = bed.kafka.producer();
    await producer.connect();
    running = await startTestPipeline(bed, { RETRY_MAX_ATTEMPTS: "3" });
    retries = await observeTopic(bed.kafka, bed.topics.retry);
    deadLetters = await observeTopic(bed.kafka, bed.topics.dlt);
  });

  afterAll(async () => {
    await retries?.stop();
    await deadLetters?.stop();
    await running?.pipeline.stop();
    await producer?.disconnect();
    await bed?.dispose();
  });

  it("when records of a batch are rejected, then the rest is stored, each is retried 3 times and parked with the error; after the fix, the replay stores them", async () => {
    const [rejected, alsoRejected] = [issuance(201, REJECTED_USERS[0]), issuance(201, REJECTED_USERS[1])];
    const others = [1, 2, 3].map((u) => issuance(201, u));
    const request = {
      "x-request-id": "req-rejected",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    };
    const [ack] = await producer.send({
      topic: bed.topics.issued,
      messages: [...others, rejected, alsoRejected].map((i) => ({
        ...issuedRecord(i, i === rejected ? request : {}),
        partition: 1,
      })),
    });

    await waitUntil(
      "two dead letters",
      () => deadLetters.records.length,
      (n) => n === 2,
    );
    const parked = deadLetters.records.find((r) => r.value === JSON.stringify(rejected));
    expect(await rowCount(bed.prisma, 201)).toBe(3);
    expect(parked?.key).toBe("201");
    expect(parked?.value).toBe(JSON.stringify(rejected));
    expect(parked?.headers).toMatchObject({
      ...request,
      [HEADER.errorKind]: "rejected",
      [HEADER.retryAttempt]: "3",
      [HEADER.originalTopic]: bed.topics.issued,
      [HEADER.originalPartition]: "1",
      [HEADER.originalOffset]: String(Number(ack?.baseOffset) + 3),
    });
    expect(parked?.headers[HEADER.error]).toBe("mysql 1644: refused by the test trigger");
    // Each pass through the retry topic counts up, keeping the key and the producer's headers.
    const passes = retries.records.filter((r) => r.value === JSON.stringify(rejected));
    expect(passes.map((r) => r.headers[HEADER.retryAttempt])).toEqual(["1", "2", "3"]);
    expect(passes.every((r) => r.key === "201" && r.headers["x-request-id"] === "req-rejected")).toBe(true);
    // Each retry happened no earlier than the not-before time of its pass: the next pass (or the
    // dead letter) was produced by that retry.
    const notBefore = passes.map((r) => Number(r.headers[HEADER.retryNotBefore]));
    const producedByRetry = [...passes.slice(1), parked].map((r) => r?.timestamp ?? 0);
    notBefore.forEach((due, i) => {
      expect(producedByRetry[i]).toBeGreaterThanOrEqual(due);
    });
    expect(await running.counter("issue_consumer_records_retried_total")).toBe(6);
    expect(await running.counter("issue_consumer_records_dead_lettered_total", { kind: "rejected" })).toBe(2);
    expect(
      running.logs.some(
        (l) =>
          l.request_id === "req-rejected" &&
          l.trace_id === "0af7651916cd43dd8448eb211c80319c" &&
          l.retry_attempt === 1,
      ),
    ).toBe(true);

    // A dry run reports the records but leaves them where they are.
    const dryRun = await replay("--dry-run");
    expect(dryRun).toMatch(
      new RegExp(
        `would move ${bed.topics.dlt}/0/0 -> ${bed.topics.issued} key=201 .*kind=rejected retries=3`,
      ),
    );
    expect(dryRun).toContain("would move 2 record(s)");

    await bed.prisma.$executeRawUnsafe("DROP TRIGGER reject_one_user");
    const first = await replay("--limit", "1");
    await waitUntil(
      "the first replayed row",
      () => rowCount(bed.prisma, 201),
      (n) => n === 4,
    );
    const rest = await replay();

    expect(first).toContain(`moved ${bed.topics.dlt}/0/0 -> ${bed.topics.issued} key=201`);
    expect(first).toContain("moved 1 record(s) from");
    expect(first).toContain("1 more waiting");
    expect(rest).toContain(`moved ${bed.topics.dlt}/0/1 -> ${bed.topics.issued} key=201`);
    expect(rest).toContain("moved 1 record(s) from");
    await waitUntil(
      "both replayed rows",
      () => rowCount(bed.prisma, 201),
      (n) => n === 5,
    );
    // The replay group remembers what it moved: another run has nothing to do.
    expect(await replay()).toContain("moved 0 record(s)");
    expect(await topicSize(bed.admin, bed.topics.dlt)).toBe(2);
  });
});
