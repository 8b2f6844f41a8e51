// Proves that kafkajs 2.2.4 works against the broker started by scripts/infra/kafka.sh: an idempotent,
// GZIP-compressing producer with acks=all, and a consumer group that reads every record back.
import { randomUUID } from "node:crypto";
import { testEndpoints } from "@coupon/testing";
import { type Admin, CompressionTypes, type Consumer, type IHeaders, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafka } from "../src/index.ts";

const brokers = testEndpoints().kafkaBrokers;
const runId = randomUUID().slice(0, 8);
const topic = `test.roundtrip.${runId}`;
const groupId = `test-roundtrip-${runId}`;

interface Received {
  partition: number;
  offset: string;
  key: string | undefined;
  value: string | undefined;
  headers: Record<string, string | string[]>;
}

/** kafkajs hands headers back as Buffers (or arrays of them); compare them as strings. */
function headersAsStrings(headers: IHeaders | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map((v) => v.toString()) : value.toString();
  }
  return out;
}

describe("kafkajs against the local broker", () => {
  const kafka = createKafka({ brokers, clientId: `roundtrip-${runId}` });
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: 3 }],
      waitForLeaders: true,
    });
    expect(created).toBe(true);
  }, 30_000);

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    if (admin) {
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.deleteGroups([groupId]).catch(() => {});
      await admin.disconnect();
    }
  }, 30_000);

  it("when an idempotent GZIP producer sends with acks=all, then a consumer group reads the same records", async () => {
    // Arrange: two keys, so records spread over partitions and per-key order can be checked.
    const sent = Array.from({ length: 10 }, (_, i) => ({
      key: `coupon-${i % 2}`,
      value: JSON.stringify({ couponId: i % 2, userId: `user-${i}`, seq: i, text: "kupon ✓" }),
      headers: {
        "trace-id": `trace-${runId}-${i}`,
        "content-type": "application/json",
        multi: ["first", "second"],
      } as Record<string, string | string[]>,
    }));

    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // A short fetch wait: disconnect() waits for the fetch in flight (kafkajs default: 5 s).
    consumer = kafka.consumer({
      groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 250,
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });

    const received: Received[] = [];
    const allReceived = new Promise<void>((resolve) => {
      void consumer?.run({
        eachMessage: async ({ partition, message }) => {
          received.push({
            partition,
            offset: message.offset,
            key: message.key?.toString(),
            value: message.value?.toString(),
            headers: headersAsStrings(message.headers),
          });
          if (received.length >= sent.length) resolve();
        },
      });
    });

    // Act
    const acks = await producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: sent,
    });
    await Promise.race([
      allReceived,
      new Promise((_, reject) =>
        setTimeout(
          () => reject(new Error(`only ${received.length}/${sent.length} records consumed`)),
          30_000,
        ),
      ),
    ]);

    // Assert: every record came back once, unchanged, and each key kept its order.
    expect(acks.every((a) => a.errorCode === 0)).toBe(true);
    expect(received).toHaveLength(sent.length);
    const bySeq = new Map(received.map((r) => [JSON.parse(r.value ?? "{}").seq as number, r]));
    sent.forEach((s, i) => {
      const r = bySeq.get(i);
      expect(r, `record ${i}`).toBeDefined();
      expect(r?.key).toBe(s.key);
      expect(r?.value).toBe(s.value);
      expect(r?.headers).toEqual(s.headers);
    });
    for (const key of ["coupon-0", "coupon-1"]) {
      const seqs = received
        .filter((r) => r.key === key)
        .map((r) => JSON.parse(r.value ?? "{}").seq as number);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(received.filter((r) => r.key === key).map((r) => r.partition)).size).toBe(1);
    }

    // The broker holds exactly what was sent (no duplicates from retries).
    const offsets = await admin.fetchTopicOffsets(topic);
    const total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    expect(total).toBe(sent.length);
  }, 60_000);
});
