// Moves dead letters back to `coupon.issued` once the cause is fixed, then exits. See the README.
//
//   pnpm --filter @coupon/issue-consumer-service replay-dlt [--limit N] [--dry-run] [--timeout-seconds 60]
//
// Reads KAFKA_BROKERS (required) and the topic and group variables of the service. Exits 0 when it
// moved what was waiting (or nothing was), 1 on failure, 2 on bad usage.
import { parseArgs } from "node:util";
import { createKafka, HEADER, headerValue, type ReplayedRecord, replayDeadLetters } from "@coupon/kafka";
import { readReplayConfig } from "../config.ts";

const USAGE = "usage: replay-dlt [--limit N] [--dry-run] [--timeout-seconds 60]";

interface Options {
  limit: number | undefined;
  dryRun: boolean;
  timeoutSeconds: number;
}

function parse(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      limit: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      "timeout-seconds": { type: "string", default: "60" },
    },
  });
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) {
    throw new Error("--limit must be a positive integer");
  }
  const timeoutSeconds = Number(values["timeout-seconds"]);
  if (!(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0))
    throw new Error("--timeout-seconds must be > 0");
  return { limit, dryRun: values["dry-run"], timeoutSeconds };
}

function describe(record: ReplayedRecord, verb: string, target: string): string {
  const { topic, partition, offset } = record.from;
  const why = [
    `kind=${headerValue(record.headers, HEADER.errorKind) ?? "?"}`,
    `retries=${headerValue(record.headers, HEADER.retryAttempt) ?? "?"}`,
    `error=${JSON.stringify(headerValue(record.headers, HEADER.error) ?? "")}`,
  ];
  return `${verb} ${topic}/${partition}/${offset} -> ${target} key=${record.key ?? "(none)"} value=${record.value ?? "(none)"} ${why.join(" ")}`;
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parse(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const config = readReplayConfig();
  const target = config.KAFKA_ISSUED_TOPIC;
  const verb = options.dryRun ? "would move" : "moved";
  try {
    const result = await replayDeadLetters({
      kafka: createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-replay` }),
      deadLetterTopic: config.KAFKA_DLT_TOPIC,
      targetTopic: target,
      groupId: config.KAFKA_REPLAY_CONSUMER_GROUP,
      limit: options.limit,
      dryRun: options.dryRun,
      timeoutMs: options.timeoutSeconds * 1000,
      maxWaitTimeInMs: config.KAFKA_MAX_WAIT_MS,
      onRecord: (record) => process.stdout.write(`${describe(record, verb, target)}\n`),
    });
    const rest = result.remaining > 0 ? `, ${result.remaining} more waiting` : "";
    const dry = options.dryRun ? " (dry run: nothing produced or committed)" : "";
    process.stdout.write(
      `${verb} ${result.moved} record(s) from ${config.KAFKA_DLT_TOPIC} to ${target}${rest}${dry}\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`replay-dlt: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main();
