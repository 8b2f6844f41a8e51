import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./paths.ts";

export interface OwnKafka {
  brokers: string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A Kafka broker for one test file alone, for tests that stop it: stopping the shared test broker
 * would break the files running beside them. The port follows scripts/infra/lib.sh (base + 9092).
 */
/**
 * A broker of the test's own (instance `instance`, on portBase + 9092 and + 9093). Keep the ports
 * below the kernel's ephemeral range (32768 and up on Linux), where an outgoing connection may hold
 * the port when the broker binds it.
 */
export function ownKafka(instance: string, portBase: number): OwnKafka {
  const env = { ...process.env, INFRA_INSTANCE: instance, INFRA_PORT_BASE: String(portBase) };
  const run = async (command: "start" | "stop") => {
    await promisify(execFile)(resolve(repoRoot, "scripts/infra/kafka.sh"), [command], {
      env,
      timeout: 180_000,
    });
  };
  return { brokers: [`127.0.0.1:${portBase + 9092}`], start: () => run("start"), stop: () => run("stop") };
}
