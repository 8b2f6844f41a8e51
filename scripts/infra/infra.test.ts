import { execFile } from "node:child_process";
import { readdir, readFile, rm } from "node:fs/promises";
import { connect } from "node:net";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { processAlive, repoRoot } from "@coupon/testing";
import { afterAll, describe, expect, it } from "vitest";

// An instance of its own (ports 30000+), so this test never touches the dev or test servers.
const instance = "infra-idempotence";
const stateDir = resolve(repoRoot, ".local", instance);
const env = { ...process.env, INFRA_INSTANCE: instance, INFRA_PORT_BASE: "30000" };
const ports = [36379, 36380, 33306, 39092, 39093];
const infra = (command: string) =>
  promisify(execFile)(resolve(repoRoot, "scripts/infra/infra.sh"), [command], { env, timeout: 240_000 });

function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      done(true);
    });
    socket.on("error", () => done(false));
  });
}

async function pidFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".pid"))
    .map((e) => resolve(e.parentPath, e.name));
}

async function recordedPids(): Promise<number[]> {
  const files = await pidFiles(stateDir);
  return (await Promise.all(files.map(async (f) => Number(await readFile(f, "utf8"))))).sort();
}

afterAll(async () => {
  await infra("down");
  await rm(stateDir, { recursive: true, force: true });
});

describe("scripts/infra/infra.sh", () => {
  it("when up runs twice, then the second run starts nothing new; down leaves no process behind", async () => {
    await infra("up");
    const pids = await recordedPids();
    expect(pids).toHaveLength(4);

    const second = await infra("up");
    expect(second.stderr.match(/already running/g)).toHaveLength(4);
    expect(await recordedPids()).toEqual(pids);
    expect((await infra("status")).stderr).not.toContain("stopped");

    await infra("down");
    expect(pids.filter(processAlive)).toEqual([]);
    expect((await Promise.all(ports.map(portOpen))).some(Boolean)).toBe(false);
    expect(await pidFiles(stateDir)).toEqual([]);
  });
});
