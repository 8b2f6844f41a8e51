import { setTimeout as sleep } from "node:timers/promises";
import { type CouponIssued, couponKeys, OUTBOX_REGISTRY_KEY } from "@coupon/contracts";
import type { Logger } from "@coupon/logging";
import { isCluster, luaScript, type Redis } from "@coupon/redis";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { toCouponIssued } from "../domain/outbox-entry.ts";

export interface PublishedRecord {
  record: CouponIssued;
  requestId: string | undefined;
  /** The accepting request's trace context, so the record's consumer can be linked to it. */
  traceparent: string | undefined;
}

/** Resolves only once the broker has acknowledged every record (acks=all). */
export interface IssuedPublisher {
  publish(records: PublishedRecord[]): Promise<void>;
}

export interface RelayMetrics {
  published(count: number): void;
  failed(): void;
  malformed(count: number): void;
  /** One batch handed to Kafka and acknowledged: how many records, in how long. */
  batch(size: number, seconds: number): void;
}

export function relayMetrics(registry: Registry): RelayMetrics {
  const published = new Counter({
    name: "outbox_relay_published_total",
    help: "Issuances published to Kafka and removed from the outbox",
    registers: [registry],
  });
  const failures = new Counter({
    name: "outbox_relay_failures_total",
    help: "Relay rounds that failed (Kafka or Redis unavailable); their entries stay pending",
    registers: [registry],
  });
  const malformed = new Counter({
    name: "outbox_relay_malformed_total",
    help: "Outbox entries that are not issuances, moved to their coupon's malformed stream",
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: "outbox_relay_batch_size",
    help: "Issuances per batch published to Kafka",
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [registry],
  });
  const publishDuration = new Histogram({
    name: "outbox_relay_publish_duration_seconds",
    help: "Time from sending a batch to Kafka to its acknowledgement (acks=all)",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    published: (count) => published.inc(count),
    failed: () => failures.inc(),
    malformed: (count) => malformed.inc(count),
    batch(size, seconds) {
      batchSize.observe(size);
      publishDuration.observe(seconds);
    },
  };
}

/**
 * The outbox's backlog, read from Redis when /metrics is scraped: entries not yet relayed over
 * every coupon's stream, and the age of the oldest (its id is the time it was accepted). An alert
 * on the age catches a relay that stopped, whatever the rate. While Redis cannot be read the
 * gauges keep their last values: the scrape itself must not fail.
 */
export function outboxBacklogMetrics(registry: Registry, redis: Redis): void {
  let last = { entries: 0, oldestAgeSeconds: 0 };
  let read: Promise<typeof last> | undefined;
  // Both gauges are collected by one scrape: one pass over the streams serves both.
  const backlog = () => {
    read ??= readBacklog(redis)
      .then(
        (now) => {
          last = now;
          return now;
        },
        () => last,
      )
      .finally(() => {
        read = undefined;
      });
    return read;
  };
  new Gauge({
    name: "outbox_backlog_entries",
    help: "Accepted issuances in the outbox streams, not yet relayed to Kafka",
    registers: [registry],
    async collect() {
      this.set((await backlog()).entries);
    },
  });
  new Gauge({
    name: "outbox_oldest_entry_age_seconds",
    help: "Age of the oldest entry in the outbox streams (0 when they are empty)",
    registers: [registry],
    async collect() {
      this.set((await backlog()).oldestAgeSeconds);
    },
  });
}

async function readBacklog(redis: Redis): Promise<{ entries: number; oldestAgeSeconds: number }> {
  const couponIds = await redis.smembers(OUTBOX_REGISTRY_KEY);
  let entries = 0;
  let oldestMs = Number.POSITIVE_INFINITY;
  for (const couponId of couponIds) {
    const stream = couponKeys(Number(couponId)).outbox;
    const [length, first] = await Promise.all([
      redis.xlen(stream),
      redis.xrange(stream, "-", "+", "COUNT", 1),
    ]);
    entries += length;
    const id = first[0]?.[0];
    if (id) oldestMs = Math.min(oldestMs, Number(id.split("-")[0]));
  }
  return { entries, oldestAgeSeconds: entries > 0 ? Math.max(0, (Date.now() - oldestMs) / 1000) : 0 };
}

export interface OutboxRelayOptions {
  /** A connection of its own: the relay blocks on XREADGROUP. */
  redis: Redis;
  publisher: IssuedPublisher;
  logger: Logger;
  group: string;
  /** Stable per replica (the pod name), so a restarted relay finds its own pending entries. */
  consumer: string;
  batchSize: number;
  blockMs: number;
  /**
   * How long a batch smaller than batchSize waits for more entries before it is published: under
   * load, one Kafka send, one acknowledgement and, downstream, one INSERT carry hundreds of issuances
   * instead of a few. 0 publishes whatever one read returned.
   */
  lingerMs: number;
  /** Entries another relay read but did not acknowledge for this long are taken over. */
  claimIdleMs: number;
  /**
   * A coupon whose window closed this long ago, and whose stream is empty, leaves the registry:
   * the relay reads it no more. Longer than the clocks of the issue services can differ.
   */
  retireAfterMs: number;
  maxBackoffMs: number;
  /**
   * On a Redis Cluster, where one blocking read cannot wait on the streams of several coupons (they
   * are in different slots, usually on different masters), how long a round that found nothing
   * waits before the next.
   */
  clusterPollMs: number;
  metrics?: RelayMetrics;
}

export interface OutboxRelay {
  start(): void;
  /** Finishes the batch in flight and stops; entries not yet acknowledged stay pending. */
  stop(): Promise<void>;
}

type StreamReply = [stream: string, entries: [id: string, fields: string[]][]][] | null;

interface Entry {
  stream: string;
  id: string;
  fields: string[];
}

type SettleOutbox = (stream: string, group: string, ...ids: string[]) => unknown;

/**
 * Moves accepted issuances from the per-coupon Redis streams (the outbox) to Kafka. Entries are
 * acknowledged and deleted only after Kafka acknowledged them, so a relay or broker failure delays
 * records but never loses them: unacknowledged entries are re-read by this relay and, if it died,
 * claimed by another one. Kafka may see a record twice; the consumer's unique key absorbs that.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { redis, logger, group, consumer } = options;
  const prefix = redis.options.keyPrefix ?? "";
  const clustered = isCluster(redis);
  redis.defineCommand("settleOutbox", { numberOfKeys: 1, lua: luaScript("outbox-settle-1.lua") });
  /** Outbox stream key → its coupon id, for the streams in the registry. */
  const couponOf = new Map<string, number>();
  const withGroup = new Set<string>();
  let running: Promise<void> | undefined;
  let stopping = false;
  let nextHousekeepingAt = 0;

  async function streams(): Promise<string[]> {
    const couponIds = (await redis.smembers(OUTBOX_REGISTRY_KEY)).map(Number);
    const keys = couponIds.map((id) => couponKeys(id).outbox);
    for (const [i, key] of keys.entries()) {
      if (withGroup.has(key)) continue;
      couponOf.set(key, couponIds[i] as number);
      // From id 0: entries written before the group existed are published too.
      await redis.xgroup("CREATE", key, group, "0", "MKSTREAM").catch((error: Error) => {
        if (!error.message.startsWith("BUSYGROUP")) throw error;
      });
      withGroup.add(key);
    }
    return keys;
  }

  function flatten(reply: StreamReply): Entry[] {
    return (reply ?? []).flatMap(([stream, entries]) =>
      entries.filter(([, fields]) => fields !== null).map(([id, fields]) => ({ stream, id, fields })),
    );
  }

  async function readGroup(keys: string[], from: "0" | ">", count: number, block: boolean): Promise<Entry[]> {
    const args: (string | number)[] = ["GROUP", group, consumer, "COUNT", count];
    if (block) args.push("BLOCK", options.blockMs);
    args.push("STREAMS", ...keys, ...keys.map(() => from));
    const xreadgroup = redis.xreadgroup as unknown as (...a: (string | number)[]) => Promise<StreamReply>;
    return flatten(await xreadgroup.apply(redis, args));
  }

  /**
   * One read over every stream, blocking for new entries when asked. On a cluster a read may name
   * the streams of one slot only: one read per stream (up to `count` each), none blocking (a
   * blocking read would hold its master's connection), and a pause when all came back empty.
   */
  async function read(
    keys: string[],
    from: "0" | ">",
    count = options.batchSize,
    block = true,
  ): Promise<Entry[]> {
    if (!clustered) return readGroup(keys, from, count, from === ">" && block);
    const entries = (await Promise.all(keys.map((key) => readGroup([key], from, count, false)))).flat();
    if (entries.length === 0 && from === ">" && block) await sleep(options.clusterPollMs);
    return entries;
  }

  /**
   * Whether nothing can be left to relay from this coupon, nor come: its stream is empty, and it
   * has no terms in Redis or their window (the event's end, or the coupon's validity if sooner)
   * closed `retireAfterMs` ago. The issuance script adds no entry without open terms, and terms
   * written again (an event extended) register the coupon again (createIssuanceTermsWriter).
   */
  async function finished(couponId: number): Promise<boolean> {
    const keys = couponKeys(couponId);
    const [[endsAt, validUntil], length] = await Promise.all([
      redis.hmget(keys.terms, "endsAt", "validUntil"),
      redis.xlen(keys.outbox),
    ]);
    if (length > 0) return false;
    if (endsAt === null && validUntil === null) return true;
    const closesAt = Math.min(
      Number(endsAt ?? Number.POSITIVE_INFINITY),
      Number(validUntil ?? Number.POSITIVE_INFINITY),
    );
    return Date.now() >= closesAt + options.retireAfterMs;
  }

  /**
   * Takes finished coupons out of the registry. Every round of every relay reads each registered
   * stream, and Redis answers that read in time proportional to their number: with the coupons of
   * every sale ever held registered, it was the relay, not the issuances, that grew slower.
   */
  async function retireFinished(keys: string[]): Promise<void> {
    const retired: number[] = [];
    for (const key of keys) {
      const couponId = couponOf.get(key) as number;
      if (!(await finished(couponId))) continue;
      await redis.srem(OUTBOX_REGISTRY_KEY, String(couponId));
      // Issued from, or its terms written again, between the check and the removal: back it goes.
      if (!(await finished(couponId))) {
        await redis.sadd(OUTBOX_REGISTRY_KEY, String(couponId));
        continue;
      }
      couponOf.delete(key);
      withGroup.delete(key);
      retired.push(couponId);
    }
    if (retired.length > 0)
      logger.info({ coupons: retired }, "finished coupons retired from the outbox registry");
  }

  async function claimAbandoned(keys: string[]): Promise<void> {
    for (const key of keys) {
      const [, claimed] = (await redis.xautoclaim(
        key,
        group,
        consumer,
        options.claimIdleMs,
        "0-0",
        "COUNT",
        1000,
      )) as [string, unknown[]];
      if (claimed.length > 0)
        logger.warn({ stream: key, count: claimed.length }, "claimed abandoned outbox entries");
    }
  }

  /** The stream names in replies carry the connection's key prefix; commands add it themselves. */
  const unprefixed = (stream: string) => (stream.startsWith(prefix) ? stream.slice(prefix.length) : stream);

  /**
   * One pipeline per coupon: a coupon's keys share its hash tag, so each pipeline stays within one
   * slot, as a pipeline must on a cluster; on one server they travel side by side.
   */
  async function perCoupon(
    entries: Entry[],
    add: (pipeline: ReturnType<Redis["pipeline"]>, stream: string, items: Entry[]) => void,
  ): Promise<void> {
    await Promise.all(
      [...Map.groupBy(entries, (e) => unprefixed(e.stream))].map(async ([stream, items]) => {
        const pipeline = redis.pipeline();
        add(pipeline, stream, items);
        const results = (await pipeline.exec()) ?? [];
        const failure = results.find(([error]) => error);
        if (failure) throw failure[0];
      }),
    );
  }

  /** Acknowledges the entries and trims each stream below what the group still needs (lua/outbox-settle-1.lua). */
  function settle(entries: Entry[]): Promise<void> {
    return perCoupon(entries, (pipeline, stream, items) => {
      (pipeline as unknown as { settleOutbox: SettleOutbox }).settleOutbox(
        stream,
        group,
        ...items.map((e) => e.id),
      );
    });
  }

  /**
   * Entries the issuance script never writes: copied, with their original id, to the coupon's
   * malformed stream before they are settled, so they neither block the relay nor vanish.
   */
  async function moveAside(malformed: Entry[]): Promise<void> {
    await perCoupon(malformed, (pipeline, stream, items) => {
      const { malformed: aside } = couponKeys(couponOf.get(stream) as number);
      for (const entry of items) pipeline.xadd(aside, "*", "outboxId", entry.id, ...entry.fields);
    });
    logger.error(
      { entries: malformed.map((e) => ({ stream: e.stream, id: e.id })) },
      "malformed outbox entries moved to their coupon's malformed stream",
    );
    options.metrics?.malformed(malformed.length);
  }

  async function relayBatch(entries: Entry[]): Promise<void> {
    const records: PublishedRecord[] = [];
    const malformed: Entry[] = [];
    for (const entry of entries) {
      const parsed = toCouponIssued(entry.id, entry.fields);
      if (parsed) records.push(parsed);
      else malformed.push(entry);
    }
    if (records.length > 0) {
      const started = performance.now();
      await options.publisher.publish(records);
      options.metrics?.batch(records.length, (performance.now() - started) / 1000);
    }
    if (malformed.length > 0) await moveAside(malformed);
    await settle(entries);
    options.metrics?.published(records.length);
  }

  async function loop(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      try {
        const keys = await streams();
        if (keys.length === 0) {
          await sleep(options.blockMs);
          continue;
        }
        if (Date.now() >= nextHousekeepingAt) {
          await claimAbandoned(keys);
          await retireFinished(keys);
          nextHousekeepingAt = Date.now() + options.claimIdleMs / 2;
        }
        let entries = await read(keys, "0");
        if (entries.length === 0 && !stopping) {
          entries = await read(keys, ">");
          if (entries.length > 0 && entries.length < options.batchSize && options.lingerMs > 0) {
            await sleep(options.lingerMs);
            entries.push(...(await read(keys, ">", options.batchSize - entries.length, false)));
          }
        }
        if (entries.length > 0) await relayBatch(entries);
        failures = 0;
      } catch (error) {
        failures++;
        options.metrics?.failed();
        const backoff = Math.min(options.maxBackoffMs, 100 * 2 ** Math.min(failures, 10));
        logger.error(
          { err: error, failures, retry_in_ms: backoff },
          "outbox relay failed; entries stay pending",
        );
        await sleep(backoff);
      }
    }
  }

  return {
    start() {
      running ??= loop();
    },
    async stop() {
      stopping = true;
      await running;
    },
  };
}
