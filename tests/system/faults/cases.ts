// The faults, each injected once during a paced race. A case sleeps until its moment, breaks
// something, heals it, and says when, with any figures of its own.
import type { OwnRedisSentinel } from "@coupon/testing";
import type { System } from "../system.ts";

export interface CaseContext {
  system: System;
  redisTopology: OwnRedisSentinel;
  couponId: number;
  /** Milliseconds since the race started. */
  sinceStartMs(): number;
  sleepUntil(msSinceStart: number): Promise<void>;
  stopInfra(name: "mariadb" | "kafka"): Promise<void>;
  startInfra(name: "mariadb" | "kafka"): Promise<void>;
  /** SCARD of the coupon's issued set, now. */
  issuedCount(): Promise<number>;
  /** PATCH /coupons/{id} {maxQuantity} through the edge as an admin; the status. */
  patchStock(maxQuantity: number): Promise<number>;
}

export type CaseSetting = Pick<CaseContext, "system" | "redisTopology">;

export interface FaultTimeline {
  faultAtMs: number;
  healedAtMs: number;
  /** The stock in force at the end, when the case changed it. */
  finalStock?: number;
  notes?: string[];
  checks?: Record<string, number>;
}

export interface FaultCase {
  name: string;
  description: string;
  users: number;
  ratePerSec: number;
  stock: number;
  /** Before the race and after its drain, e.g. a service configured for this case only. */
  before?(setting: CaseSetting): Promise<void>;
  after?(setting: CaseSetting): Promise<void>;
  inject(context: CaseContext): Promise<FaultTimeline>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function redisFailover(name: string, replicaAckMs: number, scale: number): FaultCase {
  const acked = replicaAckMs > 0;
  return {
    name,
    description: acked
      ? `SIGKILL of the Redis master mid-race, with ISSUE_REPLICA_ACK_MS=${replicaAckMs}: a 201 only once a replica holds the acceptance (WAIT 1 ${replicaAckMs}). Sentinel promotes the replica; the services follow it.`
      : "SIGKILL of the Redis master mid-race, replication asynchronous (ISSUE_REPLICA_ACK_MS=0): an acceptance the replica had not received when the master died is lost with it. Sentinel promotes the replica; the services follow it.",
    users: Math.round(6_000 * scale),
    ratePerSec: 300,
    stock: Math.round(5_000 * scale),
    // With the switch, the servers also refuse writes without a replica in sync
    // (min-replicas-to-write 1): a promoted master alone answers 503 for what it could not
    // confirm, instead of accepting and answering "unconfirmed" until its replica is back.
    ...(acked
      ? {
          async before({ system, redisTopology }: CaseSetting) {
            await redisTopology.setMinReplicasToWrite(1);
            await system.restart("issue", { env: { ISSUE_REPLICA_ACK_MS: String(replicaAckMs) } });
          },
          async after({ system, redisTopology }: CaseSetting) {
            await system.restart("issue", { env: { ISSUE_REPLICA_ACK_MS: "0" } });
            await redisTopology.setMinReplicasToWrite(0);
          },
        }
      : {}),
    async inject({ redisTopology, sleepUntil, sinceStartMs }) {
      await sleepUntil(4_000 * scale);
      const faultAtMs = sinceStartMs();
      const old = await redisTopology.killMaster();
      const promoted = await redisTopology.waitForNewMaster(old, 60_000);
      const healedAtMs = sinceStartMs();
      await redisTopology.restart(old);
      return {
        faultAtMs,
        healedAtMs,
        notes: [
          `master ${old} killed at ${seconds(faultAtMs)}; Sentinel promoted ${promoted} ${seconds(healedAtMs - faultAtMs)} later; the old master came back as its replica`,
          acked
            ? "every 201 was held by a replica when it was sent, so the failover could not lose it; with one replica the promoted master has none until the old one rejoins, and refuses writes meanwhile (Kubernetes runs two)"
            : "what a SIGKILLed master had written to the replica's socket still arrives (the kernel delivers it), so a loss here is only what sat in Redis's own buffers at the kill; a lost machine or a cut link would lose what replication had not carried, which only the switch prevents",
        ],
      };
    },
  };
}

function downFor(name: "kafka" | "mariadb", downMs: number, scale: number, rate: number): FaultCase {
  const what = name === "kafka" ? "Kafka" : "MariaDB";
  const raceMs = downMs + 10_000;
  return {
    name: `${name}-down`,
    description:
      name === "kafka"
        ? `Kafka stopped for ${seconds(downMs * scale)} mid-race: issuance goes on (Redis decides), the outbox holds the backlog, the relay delivers it when Kafka is back.`
        : `MariaDB stopped for ${seconds(downMs * scale)} mid-race: issuance goes on (the terms are in Redis), the consumer pauses and stores the backlog when the database is back.`,
    users: Math.round((raceMs / 1_000) * rate * scale),
    ratePerSec: rate,
    stock: Math.round((raceMs / 1_000) * rate * scale * 0.8),
    async inject({ sleepUntil, sinceStartMs, stopInfra, startInfra }) {
      await sleepUntil(4_000 * scale);
      const faultAtMs = sinceStartMs();
      await stopInfra(name);
      await sleepUntil(faultAtMs + downMs * scale);
      await startInfra(name);
      const healedAtMs = sinceStartMs();
      return {
        faultAtMs,
        healedAtMs,
        notes: [`${what} down from ${seconds(faultAtMs)} to ${seconds(healedAtMs)}`],
      };
    },
  };
}

function processKill(name: "issue" | "consumer", scale: number): FaultCase {
  return {
    name: `${name}-kill`,
    description:
      name === "issue"
        ? "SIGKILL of the issue service (the API and the outbox relay) mid-race, started again at once: requests in flight are cut, the relay's pending entries are delivered after the restart."
        : "SIGKILL of the issue-consumer mid-batch, started again at once: what it stored but had not committed is read again and skipped as duplicates; the restarted consumer waits out its dead predecessor's session.",
    users: Math.round(5_000 * scale),
    ratePerSec: 300,
    stock: Math.round(4_000 * scale),
    async inject({ system, sleepUntil, sinceStartMs }) {
      await sleepUntil(4_000 * scale);
      const faultAtMs = sinceStartMs();
      await system.restart(name, { signal: "SIGKILL" });
      const healedAtMs = sinceStartMs();
      return {
        faultAtMs,
        healedAtMs,
        notes: [`killed at ${seconds(faultAtMs)}, listening again ${seconds(healedAtMs - faultAtMs)} later`],
      };
    },
  };
}

function stockPatch(scale: number): FaultCase {
  const stock = Math.round(3_000 * scale);
  const lowered = Math.round(1_500 * scale);
  const raised = Math.round(2_500 * scale);
  return {
    name: "stock-patch",
    description: `The stock lowered from ${stock} to ${lowered} mid-race (PATCH maxQuantity), then raised to ${raised}: no 201 beyond the lowered stock while it is in force, none beyond the raised one after.`,
    users: Math.round(4_000 * scale),
    ratePerSec: 400,
    stock,
    async inject({ sleepUntil, sinceStartMs, patchStock, issuedCount }) {
      await sleepUntil(3_000 * scale);
      const faultAtMs = sinceStartMs();
      const down = await patchStock(lowered);
      const issuedAtLowering = await issuedCount();
      await sleepUntil(6_000 * scale);
      const issuedBeforeRaise = await issuedCount();
      const up = await patchStock(raised);
      const healedAtMs = sinceStartMs();
      return {
        faultAtMs,
        healedAtMs,
        finalStock: raised,
        checks: {
          "PATCH down status": down,
          "issued when the lowering answered": issuedAtLowering,
          [`issued just before the raise (must be ≤ ${lowered})`]: issuedBeforeRaise,
          "PATCH up status": up,
        },
      };
    },
  };
}

export function faultCases(scale: number): FaultCase[] {
  return [
    redisFailover("redis-failover-unacked", 0, scale),
    redisFailover("redis-failover-acked", 100, scale),
    downFor("kafka", 30_000, scale, 200),
    downFor("mariadb", 90_000, scale, 100),
    processKill("issue", scale),
    processKill("consumer", scale),
    stockPatch(scale),
  ];
}
