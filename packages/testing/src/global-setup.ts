import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { endpointsFile, testInstance } from "./index.ts";
import { repoRoot } from "./paths.ts";

const infra = resolve(repoRoot, "scripts/infra/infra.sh");
const env = { ...process.env, INFRA_INSTANCE: testInstance() };

function run(command: string): void {
  execFileSync(infra, [command], { env, stdio: ["ignore", "inherit", "inherit"] });
}

/**
 * Starts the test instance of Redis, MariaDB and Kafka (own ports, own data) unless it is already
 * up, and stops it again afterwards only if this run started it: nothing is left running.
 */
export default function setup(): () => void {
  const alreadyUp = existsSync(endpointsFile()) && isUp();
  if (!alreadyUp) run("up");
  return () => {
    if (!alreadyUp && process.env.KEEP_TEST_INFRA !== "1") run("down");
  };
}

function isUp(): boolean {
  try {
    execFileSync(infra, ["status"], { env, stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
