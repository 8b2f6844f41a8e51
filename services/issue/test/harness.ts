import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { createJwtVerifier, createRemoteJwks } from "@coupon/auth";
import { startTestTokenIssuer, type TestTokenIssuer } from "@coupon/auth/testing";
import { type CouponIssued, type CouponView, issuanceTermsOf } from "@coupon/contracts";
import { closeServer, listen } from "@coupon/http";
import { createKafka } from "@coupon/kafka";
import { createLogger } from "@coupon/logging";
import { closeRedis, createIssuanceTermsWriter, createRedis, isCluster, type Redis } from "@coupon/redis";
import { testEndpoints } from "@coupon/testing";
import type { Admin, Kafka, Producer } from "kafkajs";
import { Counter, Registry } from "prom-client";
import { Agent } from "undici";
import { createCouponTermsLoader } from "../src/adapters/coupon-terms-loader.ts";
import { createKafkaIssuedPublisher } from "../src/adapters/kafka-issued-publisher.ts";
import {
  createOutboxRelay,
  type IssuedPublisher,
  type OutboxRelay,
  type RelayMetrics,
} from "../src/adapters/outbox-relay.ts";
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
  /** Writes a coupon's issuance terms into Redis the way the coupon service or an earlier load would. */
  writeTerms(view: CouponView): Promise<void>;
  /** Makes a coupon known only to the coupon service's HTTP API (terms not yet in Redis). */
  publishCoupon(view: CouponView): void;
  unpublishCoupon(couponId: number): void;
  /** While on, the coupon service answers every request 503 (its database is down). */
  failCouponService(on: boolean): void;
  /** GET /coupons/{id} requests the coupon service has answered. */
  couponServiceRequests(): number;
  /** Acceptances that came back after their request had been answered 503. */
  unannounced(): Promise<number>;
  post(body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  startRelay(options?: {
    consumer?: string;
    publisher?: IssuedPublisher;
    claimIdleMs?: number;
    retireAfterMs?: number;
    metrics?: RelayMetrics;
  }): OutboxRelay;
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
    termsVersion: 1,
  };
}

export interface HarnessOptions {
  kafkaBrokers?: string[];
  /** A Redis of the test file's own, for tests that stop it. */
  redisUrl?: string;
  /** Or the Sentinels of a topology of its own (master set coupon-redis), for tests that kill the master. */
  redisSentinels?: string[];
  /** Or the nodes of a Redis Cluster. */
  redisClusterNodes?: string[];
  deadlineMs?: number;
  replyGraceMs?: number;
  replicaAckMs?: number;
}

/** Every key under the prefix, on every master of a cluster (KEYS on a cluster client asks one node). */
async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const servers = isCluster(redis) ? redis.nodes("master") : [redis];
  return (await Promise.all(servers.map((server) => server.keys(`${prefix}*`)))).flat();
}

/** The issue service in-process on a loopback port, against the test instance's Redis and Kafka. */
export async function startHarness(label: string, options: HarnessOptions = {}): Promise<Harness> {
  const { kafkaBrokers = testEndpoints().kafkaBrokers, redisUrl = testEndpoints().redisUrl } = options;
  const prefix = `test:${label}:${randomUUID()}:`;
  const topic = `test.${label}.${randomUUID().slice(0, 8)}`;
  const redisEnv = {
    REDIS_SENTINEL_MASTER: "coupon-redis",
    REDIS_KEY_PREFIX: prefix,
    ...(options.redisSentinels
      ? { REDIS_SENTINELS: options.redisSentinels }
      : options.redisClusterNodes
        ? { REDIS_CLUSTER_NODES: options.redisClusterNodes }
        : { REDIS_URL: redisUrl }),
  };
  const redis = createRedis(redisEnv, "t");
  const tokens = await startTestTokenIssuer();
  const kafka = createKafka({ brokers: kafkaBrokers, clientId: `issue-test-${label}`, logger });
  const admin: Admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });

  // Stands in for the coupon service's GET /coupons/{id} (its real routes have their own tests).
  const published = new Map<number, CouponView>();
  let couponRequests = 0;
  let couponServiceFails = false;
  const couponService = createServer((req, res) => {
    couponRequests++;
    if (couponServiceFails) {
      res
        .writeHead(503, { "content-type": "application/problem+json" })
        .end('{"code":"DATABASE_UNAVAILABLE"}');
      return;
    }
    const view = published.get(Number(req.url?.split("/").pop()));
    setTimeout(() => {
      if (view) res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(view));
      else
        res.writeHead(404, { "content-type": "application/problem+json" }).end('{"code":"COUPON_NOT_FOUND"}');
    }, 20);
  });
  await new Promise<void>((ready) => couponService.listen(0, "127.0.0.1", ready));
  const couponServiceAddress = couponService.address() as { port: number };

  const registry = new Registry();
  const unannounced = new Counter({ name: "unannounced", help: "-", registers: [registry] });
  const unconfirmed = new Counter({ name: "unconfirmed", help: "-", registers: [registry] });
  const issueCoupon = createIssueCoupon({
    terms: createCouponTermsLoader({
      writer: createIssuanceTermsWriter(redis),
      couponServiceUrl: `http://127.0.0.1:${couponServiceAddress.port}`,
      notFoundTtlMs: 1_000,
      requestTimeoutMs: 500,
    }),
    store: createRedisIssuanceStore(redis, {
      deadlineMs: options.deadlineMs ?? 500,
      replyGraceMs: options.replyGraceMs ?? 200,
      logger,
      unannounced,
      replicaAckMs: options.replicaAckMs ?? 0,
      unconfirmed,
    }),
    now: Date.now,
  });
  const termsWriter = createIssuanceTermsWriter(redis);
  const app = buildApp({
    logger,
    registry,
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
    async writeTerms(view) {
      await termsWriter.write(issuanceTermsOf(view), { refuseBelowIssued: false });
    },
    publishCoupon(view) {
      published.set(view.couponId, view);
    },
    unpublishCoupon(couponId) {
      published.delete(couponId);
    },
    failCouponService(on) {
      couponServiceFails = on;
    },
    couponServiceRequests: () => couponRequests,
    unannounced: async () => (await unannounced.get()).values[0]?.value ?? 0,
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
    startRelay({
      consumer = "relay-a",
      publisher,
      claimIdleMs = 30_000,
      retireAfterMs = 60_000,
      metrics,
    } = {}) {
      const relayRedis = createRedis(redisEnv, consumer, { enableAutoPipelining: false });
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
        retireAfterMs,
        maxBackoffMs: 500,
        clusterPollMs: 20,
        ...(metrics ? { metrics } : {}),
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
      // One key at a time: on a cluster a DEL of several keys must stay within one slot.
      await Promise.all((await keysUnder(redis, prefix)).map((k) => redis.del(k.slice(prefix.length))));
      await closeRedis(redis);
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    },
  };
}
