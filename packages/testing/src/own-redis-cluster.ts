import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  killRedis,
  loadState,
  type RedisNode,
  redisCli,
  saveState,
  spawnRedis,
  waitUntil,
} from "./redis-processes.ts";

export interface ClusterTopologyOptions {
  /**
   * The first of the masters' loopback ports (the next ones follow); each node's cluster bus
   * listens on its port + 100. Keep them below the kernel's ephemeral range (32768 and up on
   * Linux), where an outgoing connection may hold a port.
   */
  basePort: number;
  masters?: number;
  /** Where each node keeps its data, cluster file and log; a temporary folder (removed by stop) if not given. */
  dir?: string;
}

export interface OwnRedisCluster {
  /** host:port of every master, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[];
  ports: number[];
  dir: string;
  /** Starts the nodes, assigns the 16384 slots evenly (no replicas) and waits for cluster_state:ok. */
  start(): Promise<void>;
  /** The port of the master that serves `key`'s slot. */
  masterOf(key: string): Promise<number>;
  /** Kills every node; removes the folder when it was a temporary one. */
  stop(): Promise<void>;
}

interface ClusterState {
  kind: "cluster";
  nodes: RedisNode[];
}

/**
 * A Redis Cluster of masters without replicas on loopback (redis-server --cluster-enabled yes,
 * then redis-cli --cluster create), to prove that every multi-key command stays within one slot.
 * No persistence: the cluster lives as long as its test or script.
 */
export function ownRedisCluster(options: ClusterTopologyOptions): OwnRedisCluster {
  const temporary = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "coupon-cluster-"));
  const nodes: RedisNode[] = Array.from({ length: options.masters ?? 3 }, (_, i) => ({
    name: `cluster-${options.basePort + i}`,
    port: options.basePort + i,
  }));
  if (nodes.some((n) => n.port > 55_535))
    throw new Error("cluster ports must be at most 55535 (bus: port + 10000)");
  return clusterTopology(dir, temporary, nodes);
}

/** The cluster a script started in `dir` (see src/redis-topology.ts), to stop it. */
export function attachRedisCluster(dir: string): OwnRedisCluster {
  return clusterTopology(dir, false, loadState<ClusterState>(dir).nodes);
}

function clusterTopology(dir: string, temporary: boolean, nodes: RedisNode[]): OwnRedisCluster {
  const save = () => saveState(dir, { kind: "cluster", nodes } satisfies ClusterState);
  const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
  return {
    nodes: addresses,
    ports: nodes.map((n) => n.port),
    dir,

    async start() {
      for (const node of nodes) {
        const home = join(dir, node.name);
        await spawnRedis(node, home, "redis-server", [
          ...["--port", String(node.port), "--bind", "127.0.0.1", "--dir", home],
          ...["--cluster-enabled", "yes", "--cluster-port", String(node.port + 100)],
          ...["--cluster-config-file", join(home, "nodes.conf")],
          ...["--cluster-node-timeout", "2000", "--save", "", "--appendonly", "no"],
        ]);
        save();
      }
      await promisify(execFile)(
        "redis-cli",
        ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"],
        { timeout: 30_000 },
      );
      // Every node must have learnt the others' slots (gossip) before a client may be pointed at any.
      await waitUntil("cluster_state:ok on every node", 30_000, async () => {
        for (const node of nodes) {
          if (!(await redisCli(node.port, "CLUSTER", "INFO")).includes("cluster_state:ok")) return false;
        }
        return true;
      });
    },

    async masterOf(key) {
      const slot = Number(await redisCli(nodes[0]?.port as number, "CLUSTER", "KEYSLOT", key));
      const shards = await redisCli(nodes[0]?.port as number, "--json", "CLUSTER", "SLOTS");
      const ranges = JSON.parse(shards) as [number, number, [string, number, string]][];
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`no master serves slot ${slot}`);
      return range[2][1];
    },

    async stop() {
      await Promise.all(nodes.map(killRedis));
      if (temporary) rmSync(dir, { recursive: true, force: true });
      else save();
    },
  };
}
