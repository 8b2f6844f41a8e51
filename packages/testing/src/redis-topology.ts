// Starts and stops the Redis topologies of own-redis-sentinel.ts and own-redis-cluster.ts from a
// script; the servers keep running after this command exits, found again through <dir>/topology.json.
//
//   node packages/testing/src/redis-topology.ts sentinel up --dir D --port P [--replicas N] [--down-after-ms MS]
//                                                              [--min-replicas-to-write N]
//   node packages/testing/src/redis-topology.ts sentinel master|kill-master|down --dir D
//   node packages/testing/src/redis-topology.ts sentinel wait-new-master --dir D --port OLD
//   node packages/testing/src/redis-topology.ts sentinel restart --dir D --port P
//   node packages/testing/src/redis-topology.ts cluster up --dir D --port P [--masters N]
//   node packages/testing/src/redis-topology.ts cluster down --dir D
//
// `up` prints the addresses as JSON (for REDIS_SENTINELS or REDIS_CLUSTER_NODES); `master`,
// `kill-master` and `wait-new-master` print a port. Exit status 1 on failure, with the reason.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { attachRedisCluster, ownRedisCluster } from "./own-redis-cluster.ts";
import { attachRedisSentinel, ownRedisSentinel } from "./own-redis-sentinel.ts";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: "string" },
    port: { type: "string" },
    replicas: { type: "string" },
    masters: { type: "string" },
    "down-after-ms": { type: "string" },
    "min-replicas-to-write": { type: "string" },
  },
});
const [kind, command] = positionals;
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

function required(name: "dir" | "port"): string {
  const value = values[name];
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

async function sentinel(): Promise<void> {
  const dir = resolve(required("dir"));
  if (command === "up") {
    const topology = ownRedisSentinel({
      dir,
      basePort: Number(required("port")),
      ...(values.replicas ? { replicas: Number(values.replicas) } : {}),
      ...(values["down-after-ms"] ? { downAfterMs: Number(values["down-after-ms"]) } : {}),
      ...(values["min-replicas-to-write"]
        ? { minReplicasToWrite: Number(values["min-replicas-to-write"]) }
        : {}),
    });
    try {
      await topology.start();
    } catch (error) {
      await topology.stop();
      throw error;
    }
    print({
      masterName: topology.masterName,
      sentinels: topology.sentinels,
      redisPorts: topology.redisPorts,
      master: await topology.master(),
    });
    return;
  }
  const topology = attachRedisSentinel(dir);
  if (command === "master") print(await topology.master());
  else if (command === "kill-master") print(await topology.killMaster());
  else if (command === "wait-new-master") print(await topology.waitForNewMaster(Number(required("port"))));
  else if (command === "restart") await topology.restart(Number(required("port")));
  else if (command === "down") await topology.stop();
  else throw new Error(`unknown sentinel command ${command}`);
}

async function cluster(): Promise<void> {
  const dir = resolve(required("dir"));
  if (command === "up") {
    const topology = ownRedisCluster({
      dir,
      basePort: Number(required("port")),
      ...(values.masters ? { masters: Number(values.masters) } : {}),
    });
    try {
      await topology.start();
    } catch (error) {
      await topology.stop();
      throw error;
    }
    print({ nodes: topology.nodes });
  } else if (command === "down") await attachRedisCluster(dir).stop();
  else throw new Error(`unknown cluster command ${command}`);
}

try {
  if (kind === "sentinel") await sentinel();
  else if (kind === "cluster") await cluster();
  else
    throw new Error(
      "usage: redis-topology.ts sentinel|cluster <command> --dir D [...]; see the file's header",
    );
} catch (error) {
  process.stderr.write(`redis-topology: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
