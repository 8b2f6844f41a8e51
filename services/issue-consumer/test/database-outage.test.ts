// The database goes away (a TCP proxy in front of the test MariaDB is closed, cutting the pooled
// connections and refusing new ones) and comes back: nothing is parked, nothing is lost.
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { parseDatabaseUrl } from "@coupon/db";
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
  topicSize,
  waitUntil,
} from "./support.ts";

/** Forwards a local port to the database; close() drops every connection and refuses new ones. */
class TcpProxy {
  private readonly target: { host: string; port: number };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Chosen by the first open(), kept by the next ones so that the database URL stays valid. */
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.target = target;
  }

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = tcpConnect(this.target);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

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
});
