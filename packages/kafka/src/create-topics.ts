// Creates the project's topics (src/topics.ts) on a broker; topics that exist are left alone.
// Waits until the broker accepts admin calls, so it doubles as the readiness check of
// scripts/infra/kafka.sh: it also waits for the group coordinator (__consumer_offsets) and for a
// producer id (InitProducerId, served by the transaction coordinator), which a fresh broker creates
// and loads on first use; clients started right after would otherwise log and retry
// COORDINATOR_LOAD_IN_PROGRESS.
//
//   node packages/kafka/src/create-topics.ts <host:port[,host:port...]> [--timeout-seconds 60]
//
// Exits 0 when every topic exists with a leader, 1 on timeout (with the last error), 2 on bad usage.
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { Admin, Kafka } from "kafkajs";
import { createKafka, type KafkaLogger, parseBrokers } from "./client.ts";
import { TOPICS, type TopicDefinition, toTopicConfigs } from "./topics.ts";

const say = (message: string): void => {
  process.stderr.write(`[create-topics] ${message}\n`);
};

/** One attempt: creates what is missing (adding the names to `created`), checks every topic has leaders. */
async function ensureTopics(
  admin: Admin,
  topics: readonly TopicDefinition[],
  created: Set<string>,
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.name));
  if (missing.length > 0) {
    for (const t of missing) created.add(t.name);
    // Another process may create the same topic in between: kafkajs then returns false, no error.
    await admin.createTopics({ topics: toTopicConfigs(missing), waitForLeaders: true, timeout: 10_000 });
  }
  const metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) });
  for (const topic of metadata.topics) {
    const wanted = topics.find((t) => t.name === topic.name);
    if (wanted && topic.partitions.length !== wanted.numPartitions) {
      say(
        `warning: ${topic.name} has ${topic.partitions.length} partitions, ` +
          `${wanted.numPartitions} are defined (left as it is)`,
      );
    }
    const leaderless = topic.partitions.filter((p) => p.leader < 0);
    if (leaderless.length > 0)
      throw new Error(`${topic.name}: ${leaderless.length} partitions have no leader`);
  }
}

/** First use of the coordinators: group lookups and idempotent producers then answer at once. */
async function warmUpCoordinators(kafka: Kafka, admin: Admin): Promise<void> {
  await admin.describeGroups(["coupon.readiness-probe"]);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 1 } });
  try {
    await producer.connect();
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

export async function createTopics(
  brokers: string[],
  timeoutMs: number,
  topics: readonly TopicDefinition[] = TOPICS,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  // While the broker starts, connection errors are expected: keep kafkajs quiet, report the last one.
  const quiet: KafkaLogger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };
  const kafka = createKafka({
    brokers,
    clientId: "coupon-create-topics",
    logger: quiet,
    logLevel: "error",
    connectionTimeout: 2_000,
    requestTimeout: 10_000,
    retry: { retries: 0 },
  });
  const created = new Set<string>();
  let lastError: unknown;
  for (let attempt = 1; Date.now() < deadline; attempt++) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await ensureTopics(admin, topics, created);
      await warmUpCoordinators(kafka, admin);
      return [...created];
    } catch (error) {
      lastError = error;
      if (attempt === 1 || attempt % 10 === 0) say(`waiting for the broker (${describe(error)})`);
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
  }
  throw new Error(
    `the broker at ${brokers.join(",")} did not accept admin calls within ${timeoutMs / 1000}s ` +
      `(last error: ${describe(lastError)})`,
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (error) {
    say(`${describe(error)}\nusage: create-topics.ts <host:port[,host:port...]> [--timeout-seconds 60]`);
    return 2;
  }
  const { brokers, timeoutSeconds } = parsed;
  try {
    const created = await createTopics(brokers, timeoutSeconds * 1000);
    const kept = TOPICS.map((t) => t.name).filter((name) => !created.includes(name));
    say(
      [
        created.length > 0 && `created ${created.join(", ")}`,
        kept.length > 0 && `already there: ${kept.join(", ")}`,
      ]
        .filter(Boolean)
        .join("; "),
    );
    return 0;
  } catch (error) {
    say(`error: ${describe(error)}`);
    return 1;
  }
}

function parse(): { brokers: string[]; timeoutSeconds: number } {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { "timeout-seconds": { type: "string", default: "60" } },
  });
  const brokers = parseBrokers(positionals.join(",") || process.env.KAFKA_BROKERS || "");
  if (brokers.length === 0) throw new Error("no brokers given (argument or KAFKA_BROKERS)");
  const timeoutSeconds = Number(values["timeout-seconds"]);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
    throw new Error("--timeout-seconds must be > 0");
  return { brokers, timeoutSeconds };
}

if (import.meta.main) {
  process.exitCode = await main();
}
