import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { repoRoot } from "./paths.ts";

export { repoRoot };

/** Addresses of the test instance's servers, as written by `scripts/infra/infra.sh up`. */
export interface Endpoints {
  redisUrl: string;
  sentinels: { host: string; port: number }[];
  databaseServerUrl: string;
  kafkaBrokers: string[];
}

/** The infrastructure instance tests use: "test" unless INFRA_INSTANCE names another. */
export function testInstance(): string {
  return process.env.INFRA_INSTANCE ?? "test";
}

export function endpointsFile(instance = testInstance()): string {
  return resolve(repoRoot, ".local", instance, "endpoints.json");
}

export function testEndpoints(): Endpoints {
  const file = endpointsFile();
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Endpoints;
  } catch (error) {
    throw new Error(
      `test infrastructure is not up (${file} unreadable: ${(error as Error).message}); run tests with \`pnpm test\``,
    );
  }
}

export { type OwnKafka, ownKafka } from "./own-kafka.ts";
export { type OwnRedis, ownRedis } from "./own-redis.ts";
export { type OwnRedisCluster, ownRedisCluster } from "./own-redis-cluster.ts";
export { type OwnRedisSentinel, ownRedisSentinel } from "./own-redis-sentinel.ts";
export { processAlive } from "./process-alive.ts";
export { describeServiceContract, type ServiceContract } from "./service-contract.ts";
export { type ExitResult, runServiceToExit, type ServiceProcess, startService } from "./service-process.ts";
export { TcpProxy } from "./tcp-proxy.ts";
