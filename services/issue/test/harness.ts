import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { createJwtVerifier, createRemoteJwks } from "@coupon/auth";
import { startTestTokenIssuer, type TestTokenIssuer } from "@coupon/auth/testing";
import { type CouponIssued, type CouponView, couponKeys, toCacheHash } from "@coupon/contracts";
import { closeServer, listen } from "@coupon/http";
import { createKafka } from "@coupon/kafka";
import { createLogger } from "@coupon/logging";
import { closeRedis, createRedis, type Redis } from "@coupon/redis";
import { testEndpoints } from "@coupon/testing";
import type { Admin, Kafka, Producer } from "kafkajs";
import { Registry } from "prom-client";
import { Agent } from "undici";
import { createCouponCatalog } from "../src/adapters/coupon-catalog.ts";
import { createKafkaIssuedPublisher } from "../src/adapters/kafka-issued-publisher.ts";
import { createOutboxRelay, type IssuedPublisher, type OutboxRelay } from "../src/adapters/outbox-relay.ts";
import { createRedisIssuanceStore } from "../src/adapters/redis-issuance-store.ts";
import { buildApp } from "../src/app.ts";
import { createIssueCoupon } from "../src/domain/issue-coupon.ts";

export const logger = createLogger({ service: "issue-test", level: "silent" });

export interface Harness {
  baseUrl: string;
  redis: Redis;
  tokens: TestTokenIssuer;
  kafka: Kafka;
  topic: string;
  prefix: string;
  /** Puts a coupon into the Redis cache the way the coupon service or a previous miss would. */
  cacheCoupon(view: CouponView): Promise<void>;
  /** Makes a coupon known only to the coupon service's HTTP API (a cold cache). */
  publishCoupon(view: CouponView): void;
  /** GET /coupons/{id} requests the coupon service has answered. */
  couponServiceRequests(): number;
  post(body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  startRelay(options?: { consumer?: string; publisher?: IssuedPublisher; claimIdleMs?: number }): OutboxRelay;
  /**
   * Reads the topic from the beginning until `count` records that `where` accepts (all, by default)
   * arrived, or the timeout passed.
   */
  readTopic(
    count: number,
    timeoutMs?: number,
    where?: (record: CouponIssued) => boolean,
  ): Promise<CouponIssued[]>;
  close(): Promise<void>;
}

let couponIds = Math.floor(Math.random() * 1_000_000) * 1000;
export const nextCouponId = () => ++couponIds;

export function openCoupon(couponId: number, eventId: number, maxQuantity: number, offsetMs = 0): CouponView {
  const now = Date.now() + offsetMs;
  return {
    couponId,
    eventId,
    discountType: "PERCENT",
    discountRate: 10,
    discountPrice: null,
    maxQuantity,
    validFrom: new Date(now - 3_600_000).toISOString(),
    validUntil: new Date(now + 86_400_000).toISOString(),
    issueStartsAt: new Date(now - 60_000).toISOString(),
    issueEndsAt: new Date(now + 3_600_000).toISOString(),
  };
}

/** The issue service in-process on a loopback port, against the test instance's Redis and Kafka. */
export async function startHarness(
  label: string,
  kafkaBrokers = testEndpoints().kafkaBrokers,
): Promise<Harness> {
  const prefix = `test:${label}:${randomUUID()}:`;
  const topic = `test.${label}.${randomUUID().slice(0, 8)}`;
  const redis = createRedis(
    { REDIS_URL: testEndpoints().redisUrl, REDIS_SENTINEL_MASTER: "x", REDIS_KEY_PREFIX: prefix },
    "t",
  );
  const tokens = await startTestTokenIssuer();
  const kafka = createKafka({ brokers: kafkaBrokers, clientId: `issue-test-${label}`, logger });
  const admin: Admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });

  // Stands in for the coupon service's GET /coupons/{id} (its real routes have their own tests).
  const published = new Map<number, CouponView>();
  let couponRequests = 0;
  const couponService = createServer((req, res) => {
    couponRequests++;
    const view = published.get(Number(req.url?.split("/").pop()));
    setTimeout(() => {
      if (view) res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(view));
      else
        res.writeHead(404, { "content-type": "application/problem+json" }).end('{"code":"COUPON_NOT_FOUND"}');
    }, 20);
  });
  await new Promise<void>((ready) => couponService.listen(0, "127.0.0.1", ready));
  const couponServiceAddress = couponService.address() as { port: number };

  const issueCoupon = createIssueCoupon({
    catalog: createCouponCatalog({
      redis,
      couponServiceUrl: `http://127.0.0.1:${couponServiceAddress.port}`,
      localTtlMs: 1_000,
      redisTtlMs: 60_000,
      notFoundTtlMs: 1_000,
      requestTimeoutMs: 500,
    }),
    store: createRedisIssuanceStore(redis),
    now: Date.now,
  });
  const app = buildApp({
    logger,
    registry: new Registry(),
    isAccepting: () => true,
    readinessChecks: {},
    verifier: createJwtVerifier({
      keys: createRemoteJwks({ url: tokens.jwksUrl }),
      issuer: tokens.issuer,
      audience: tokens.audience,
    }),
    issueCoupon,
  });
  const server: Server = await listen(app, 0, "127.0.0.1");
  const { port } = server.address() as { port: number };
  const baseUrl = `http://127.0.0.1:${port}`;
  const dispatcher = new Agent({ connections: 64, pipelining: 1 });
  const relays: OutboxRelay[] = [];
  const relayConnections: Redis[] = [];
  const producers: Producer[] = [];

  return {
    baseUrl,
    redis,
    tokens,
    kafka,
    topic,
    prefix,
    async cacheCoupon(view) {
      await redis.hset(couponKeys(view.couponId).meta, toCacheHash(view));
    },
    publishCoupon(view) {
      published.set(view.couponId, view);
    },
    couponServiceRequests: () => couponRequests,
    async post(body, token) {
      const res = await fetch(`${baseUrl}/coupon-issues`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
        body: typeof body === "string" ? body : JSON.stringify(body),
        dispatcher,
      } as RequestInit);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    startRelay({ consumer = "relay-a", publisher, claimIdleMs = 30_000 } = {}) {
      const relayRedis = createRedis(
        { REDIS_URL: testEndpoints().redisUrl, REDIS_SENTINEL_MASTER: "x", REDIS_KEY_PREFIX: prefix },
        consumer,
        { enableAutoPipelining: false },
      );
      relayConnections.push(relayRedis);
      let chosen = publisher;
      if (!chosen) {
        const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
        producers.push(producer);
        chosen = createKafkaIssuedPublisher(producer, topic);
      }
      const relay = createOutboxRelay({
        redis: relayRedis,
        publisher: chosen,
        logger,
        group: "outbox-relay",
        consumer,
        batchSize: 200,
        blockMs: 200,
        lingerMs: 50,
        claimIdleMs,
        maxBackoffMs: 500,
      });
      relay.start();
      relays.push(relay);
      return relay;
    },
    async readTopic(count, timeoutMs = 30_000, where = () => true) {
      const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
      const records: CouponIssued[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        const done = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          void consumer.run({
            eachMessage: async ({ message }) => {
              const record = JSON.parse(String(message.value)) as CouponIssued;
              if (where(record)) records.push(record);
              if (records.length >= count) {
                clearTimeout(timer);
                resolve();
              }
            },
          });
        });
        await done;
      } finally {
        await consumer.disconnect();
      }
      return records;
    },
    async close() {
      await Promise.all(relays.map((r) => r.stop()));
      await Promise.all(producers.map((p) => p.disconnect()));
      await Promise.all(relayConnections.map(closeRedis));
      await closeServer(server);
      couponService.closeAllConnections();
      await closeServer(couponService);
      await dispatcher.close();
      await tokens.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
      await closeRedis(redis);
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    },
  };
}
