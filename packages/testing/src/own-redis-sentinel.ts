import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  killRedis,
  loadState,
  type RedisNode,
  redisCli,
  saveState,
  signalRedis,
  spawnRedis,
  waitUntil,
} from "./redis-processes.ts";

export interface SentinelTopologyOptions {
  /**
   * The first of the topology's loopback ports: the master on it, the replicas on the next ones,
   * then the three Sentinels. Keep them below the kernel's ephemeral range (32768 and up on Linux),
   * where an outgoing connection may hold a port.
   */
  basePort: number;
  /** Where each server keeps its data and log; a temporary folder (removed by stop) if not given. */
  dir?: string;
  masterName?: string;
  /** 1 in the local topology; Kubernetes runs 2 (k8s-dev/redis-values.yaml). */
  replicas?: number;
  /** How long the master must be silent before a Sentinel thinks it down (Kubernetes: 5000). */
  downAfterMs?: number;
  /**
   * Redis's min-replicas-to-write on every server (0: off): a master with fewer replicas in sync
   * (acknowledged within the last 10 s) refuses writes with NOREPLICAS.
   */
  minReplicasToWrite?: number;
}

export interface OwnRedisSentinel {
  masterName: string;
  /** host:port of the three Sentinels, as REDIS_SENTINELS takes them. */
  sentinels: string[];
  /** The Redis servers' ports, the first master at the start. */
  redisPorts: number[];
  dir: string;
  /** Starts every server and resolves once the Sentinels know the replicas and each other. */
  start(): Promise<void>;
  /** The port of the master the Sentinels name now. */
  master(): Promise<number>;
  /** SIGKILL of the current master; resolves with its port once it is gone. */
  killMaster(): Promise<number>;
  /** Resolves with the new master's port once the Sentinels promoted a server other than `old`. */
  waitForNewMaster(old: number, timeoutMs?: number): Promise<number>;
  /** Starts a killed server again, as a replica of the current master (as a Kubernetes pod does). */
  restart(port: number): Promise<void>;
  /** Changes min-replicas-to-write on every running server and for the ones restarted later. */
  setMinReplicasToWrite(count: number): Promise<void>;
  /** SIGSTOP / SIGCONT of one server: it holds its connections and answers nothing. */
  pause(port: number): void;
  resume(port: number): void;
  /** Kills every server; removes the folder when it was a temporary one. */
  stop(): Promise<void>;
}

interface SentinelState {
  kind: "sentinel";
  options: Required<Omit<SentinelTopologyOptions, "dir">>;
  nodes: RedisNode[];
}

/** One section of INFO as fields. */
async function info(port: number, section: string): Promise<Record<string, string>> {
  const text = await redisCli(port, "INFO", section);
  return Object.fromEntries(
    text
      .split("\n")
      .filter((line) => line.includes(":"))
      .map((line) => {
        const at = line.indexOf(":");
        return [line.slice(0, at), line.slice(at + 1).trim()];
      }),
  );
}

/** A reply of field/value lines (SENTINEL MASTER) as fields. */
function pairs(text: string): Record<string, string> {
  const lines = text.split("\n");
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) fields[lines[i] as string] = lines[i + 1] as string;
  return fields;
}

/**
 * A master, its replicas and three Sentinels from Debian's packages on loopback, the topology the
 * Kubernetes deployment runs, for tests and scripts that kill the master. Each server has its own
 * folder with AOF persistence, as in Kubernetes. The processes outlive their starter: a script
 * starts them (src/redis-topology.ts) and stops them later from the folder's state file.
 */
export function ownRedisSentinel(options: SentinelTopologyOptions): OwnRedisSentinel {
  const settings = {
    basePort: options.basePort,
    masterName: options.masterName ?? "coupon-redis",
    replicas: options.replicas ?? 1,
    downAfterMs: options.downAfterMs ?? 1_000,
    minReplicasToWrite: options.minReplicasToWrite ?? 0,
  };
  const temporary = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "coupon-sentinel-"));
  const redisNodes: RedisNode[] = Array.from({ length: settings.replicas + 1 }, (_, i) => ({
    name: `redis-${settings.basePort + i}`,
    port: settings.basePort + i,
  }));
  const sentinelNodes: RedisNode[] = [0, 1, 2].map((i) => ({
    name: `sentinel-${settings.basePort + settings.replicas + 1 + i}`,
    port: settings.basePort + settings.replicas + 1 + i,
  }));
  return sentinelTopology(settings, dir, temporary, redisNodes, sentinelNodes);
}

/** The topology a script started in `dir` (see src/redis-topology.ts), to kill or stop it. */
export function attachRedisSentinel(dir: string): OwnRedisSentinel {
  const state = loadState<SentinelState>(dir);
  const nodes = state.nodes;
  return sentinelTopology(
    state.options,
    dir,
    false,
    nodes.filter((n) => n.name.startsWith("redis-")),
    nodes.filter((n) => n.name.startsWith("sentinel-")),
  );
}

function sentinelTopology(
  settings: SentinelState["options"],
  dir: string,
  temporary: boolean,
  redisNodes: RedisNode[],
  sentinelNodes: RedisNode[],
): OwnRedisSentinel {
  const { masterName } = settings;
  const save = () =>
    saveState(dir, {
      kind: "sentinel",
      options: settings,
      nodes: [...redisNodes, ...sentinelNodes],
    } satisfies SentinelState);
  const nodeOn = (port: number) => {
    const node = redisNodes.find((n) => n.port === port);
    if (!node) throw new Error(`no Redis of this topology on port ${port}`);
    return node;
  };

  async function startRedis(node: RedisNode, masterPort?: number): Promise<void> {
    await spawnRedis(node, join(dir, node.name), "redis-server", [
      ...["--port", String(node.port), "--bind", "127.0.0.1", "--dir", join(dir, node.name)],
      // AOF every second, as the local Redis and the Kubernetes chart keep the outbox.
      ...["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"],
      ...["--min-replicas-to-write", String(settings.minReplicasToWrite), "--min-replicas-max-lag", "10"],
      ...(masterPort === undefined ? [] : ["--replicaof", "127.0.0.1", String(masterPort)]),
    ]);
    save();
    if (masterPort !== undefined) {
      await waitUntil(
        `${node.name} to replicate ${masterPort}`,
        30_000,
        async () => (await info(node.port, "replication")).master_link_status === "up",
      );
    }
  }

  async function master(): Promise<number> {
    let lastError: unknown;
    for (const sentinel of sentinelNodes) {
      try {
        const [, port] = (
          await redisCli(sentinel.port, "SENTINEL", "get-master-addr-by-name", masterName)
        ).split("\n");
        if (port) return Number(port);
      } catch (error) {
        lastError = error;
      }
    }
    throw new Error(`no Sentinel names a master for ${masterName}`, { cause: lastError });
  }

  return {
    masterName,
    sentinels: sentinelNodes.map((n) => `127.0.0.1:${n.port}`),
    redisPorts: redisNodes.map((n) => n.port),
    dir,

    async start() {
      const [first, ...replicas] = redisNodes as [RedisNode, ...RedisNode[]];
      await startRedis(first);
      for (const replica of replicas) await startRedis(replica, first.port);
      for (const node of sentinelNodes) {
        const home = join(dir, node.name);
        // Sentinel rewrites its configuration file with what it learns, so each gets its own.
        await spawnRedis(node, home, "redis-sentinel", [sentinelConfig(home, node.port, first.port)]);
        save();
      }
      // Replicas and the other Sentinels are learnt from the master (INFO, hello messages every 2 s).
      await waitUntil("the Sentinels to know the replicas and each other", 30_000, async () => {
        for (const sentinel of sentinelNodes) {
          const known = pairs(await redisCli(sentinel.port, "SENTINEL", "MASTER", masterName));
          if (Number(known["num-slaves"]) < replicas.length || Number(known["num-other-sentinels"]) < 2)
            return false;
          if (!(await redisCli(sentinel.port, "SENTINEL", "CKQUORUM", masterName)).startsWith("OK"))
            return false;
        }
        return true;
      });
    },

    master,

    async killMaster() {
      const port = await master();
      await killRedis(nodeOn(port));
      save();
      return port;
    },

    async waitForNewMaster(old, timeoutMs = 30_000) {
      let promoted = old;
      await waitUntil(`a master other than ${old}`, timeoutMs, async () => {
        promoted = await master();
        return promoted !== old && (await info(promoted, "replication")).role === "master";
      });
      return promoted;
    },

    async restart(port) {
      await startRedis(nodeOn(port), await master());
    },

    async setMinReplicasToWrite(count) {
      settings.minReplicasToWrite = count;
      save();
      const running = redisNodes.filter((n) => n.pid !== undefined);
      await Promise.all(
        running.map((n) => redisCli(n.port, "CONFIG", "SET", "min-replicas-to-write", String(count))),
      );
    },

    pause: (port) => signalRedis(nodeOn(port), "SIGSTOP"),
    resume: (port) => signalRedis(nodeOn(port), "SIGCONT"),

    async stop() {
      await Promise.all([...sentinelNodes, ...redisNodes].map(killRedis));
      if (temporary) rmSync(dir, { recursive: true, force: true });
      else save();
    },
  };

  function sentinelConfig(home: string, port: number, masterPort: number): string {
    mkdirSync(home, { recursive: true });
    const file = join(home, "sentinel.conf");
    writeFileSync(
      file,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${home}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${masterName} ${settings.downAfterMs}`,
        `sentinel failover-timeout ${masterName} 10000`,
        `sentinel parallel-syncs ${masterName} 1`,
        "",
      ].join("\n"),
    );
    return file;
  }
}
