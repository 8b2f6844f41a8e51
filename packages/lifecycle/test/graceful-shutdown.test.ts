import { createLogger } from "@coupon/logging";
import { describe, expect, it } from "vitest";
import { createGracefulShutdown } from "../src/index.ts";

const logger = createLogger({ service: "test", level: "silent" });

function exitRecorder() {
  let resolve: (code: number) => void = () => {};
  const code = new Promise<number>((r) => {
    resolve = r;
  });
  return { exit: (c: number) => resolve(c), code };
}

describe("createGracefulShutdown", () => {
  it("when shutdown begins, then readiness drops first and steps run in order, then exit 0", async () => {
    const { exit, code } = exitRecorder();
    const shutdown = createGracefulShutdown({ logger, deadlineMs: 5000, exit });
    const seen: string[] = [];
    shutdown.add({ name: "http", run: () => seen.push(`http accepting=${shutdown.isAccepting()}`) });
    shutdown.add({ name: "kafka", run: async () => seen.push("kafka") });
    shutdown.add({ name: "redis", run: () => seen.push("redis") });

    expect(shutdown.isAccepting()).toBe(true);
    await shutdown.begin("SIGTERM");
    expect(seen).toEqual(["http accepting=false", "kafka", "redis"]);
    expect(await code).toBe(0);
  });

  it("when begin is called twice, then the steps run once", async () => {
    const { exit } = exitRecorder();
    const shutdown = createGracefulShutdown({ logger, deadlineMs: 5000, exit });
    let runs = 0;
    shutdown.add({ name: "once", run: () => runs++ });
    await Promise.all([shutdown.begin("SIGTERM"), shutdown.begin("SIGINT")]);
    expect(runs).toBe(1);
  });

  it("when a step fails, then later steps still run and the exit code is 1", async () => {
    const { exit, code } = exitRecorder();
    const shutdown = createGracefulShutdown({ logger, deadlineMs: 5000, exit });
    const seen: string[] = [];
    shutdown.add({
      name: "kafka",
      run: async () => {
        throw new Error("broker gone");
      },
    });
    shutdown.add({ name: "db", run: () => seen.push("db") });
    await shutdown.begin("SIGTERM");
    expect(seen).toEqual(["db"]);
    expect(await code).toBe(1);
  });

  it("when a step hangs past the deadline, then the process exits 1 anyway", async () => {
    const { exit, code } = exitRecorder();
    const shutdown = createGracefulShutdown({ logger, deadlineMs: 50, exit });
    shutdown.add({ name: "stuck", run: () => new Promise(() => {}) });
    void shutdown.begin("SIGTERM");
    expect(await code).toBe(1);
  });

  it("when a drain delay is set, then nothing closes before it has passed", async () => {
    const { exit, code } = exitRecorder();
    const shutdown = createGracefulShutdown({ logger, deadlineMs: 5000, drainDelayMs: 100, exit });
    const started = Date.now();
    let closedAfter = -1;
    shutdown.add({ name: "http", run: () => (closedAfter = Date.now() - started) });
    await shutdown.begin("SIGTERM");
    await code;
    expect(closedAfter).toBeGreaterThanOrEqual(95);
  });
});
