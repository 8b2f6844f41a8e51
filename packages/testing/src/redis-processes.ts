// What the Sentinel and Cluster topologies share: redis-server processes on loopback ports, each
// with its own folder, that outlive the process that started them (so a script can start a topology
// and exit) and are found again through a state file in the topology's folder.
import { execFile, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { answersPing } from "./own-redis.ts";
import { processAlive } from "./process-alive.ts";

const run = promisify(execFile);

/** One server of a topology: its role in the topology's own words, its port, its process. */
export interface RedisNode {
  name: string;
  port: number;
  pid?: number;
}

/** A command to one server through redis-cli; its reply as text, one line per element. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], {
    timeout: 5_000,
  });
  return stdout.trim();
}

/** Starts a server (`redis-server` or `redis-sentinel`) detached, its output in `<dir>/<name>.log`. */
export async function spawnRedis(
  node: RedisNode,
  dir: string,
  command: "redis-server" | "redis-sentinel",
  args: string[],
): Promise<void> {
  if (await answersPing(node.port)) throw new Error(`port ${node.port} already has a Redis`);
  mkdirSync(dir, { recursive: true });
  const log = openSync(`${dir}/${node.name}.log`, "a");
  const child = spawn(command, args, { cwd: dir, detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.unref();
  node.pid = child.pid;
  for (let i = 0; i < 200; i++) {
    if (await answersPing(node.port)) return;
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  killNow(node);
  const logFile = `${dir}/${node.name}.log`;
  const lastLine = existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n").pop() : "";
  throw new Error(`${command} ${node.name} on ${node.port} did not start (${logFile}: ${lastLine})`);
}

function killNow(node: RedisNode): void {
  if (node.pid !== undefined && processAlive(node.pid)) process.kill(node.pid, "SIGKILL");
}

/**
 * SIGKILL (resumed first, in case it was paused): the server dies at once, unsent replies and
 * replication data with it. Resolves once the process is gone and its port is free.
 */
export async function killRedis(node: RedisNode): Promise<void> {
  if (node.pid === undefined) return;
  const pid = node.pid;
  if (processAlive(pid)) process.kill(pid, "SIGCONT");
  killNow(node);
  for (let i = 0; i < 200 && (processAlive(pid) || (await answersPing(node.port))); i++) await sleep(25);
  node.pid = undefined;
}

export function signalRedis(node: RedisNode, signal: "SIGSTOP" | "SIGCONT"): void {
  if (node.pid === undefined || !processAlive(node.pid)) throw new Error(`${node.name} is not running`);
  process.kill(node.pid, signal);
}

/** Polls until `check` holds, or fails naming `what`. */
export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const stateFile = (dir: string) => `${dir}/topology.json`;

export function saveState(dir: string, state: object): void {
  writeFileSync(stateFile(dir), `${JSON.stringify(state, null, 2)}\n`);
}

export function loadState<T>(dir: string): T {
  return JSON.parse(readFileSync(stateFile(dir), "utf8")) as T;
}
