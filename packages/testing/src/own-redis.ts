import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createConnection } from "node:net";

export interface OwnRedis {
  url: string;
  port: number;
  start(): Promise<void>;
  /** SIGKILL: the process dies at once, its connections are reset, nothing is saved. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: connections stay open while Redis answers nothing (a hung server). */
  pause(): void;
  resume(): void;
}

export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.setTimeout(500);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * A Redis server for one test file alone, for tests that kill or pause it: doing that to the
 * shared test Redis would break the files running beside them. No persistence: a kill loses all.
 */
export function ownRedis(port: number): OwnRedis {
  let child: ChildProcess | undefined;
  const signal = (name: NodeJS.Signals) => {
    if (!child || child.exitCode !== null) throw new Error(`redis on ${port} is not running`);
    child.kill(name);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      if (await answersPing(port)) throw new Error(`port ${port} already has a Redis`);
      child = spawn(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        { stdio: "ignore" },
      );
      for (let i = 0; i < 100; i++) {
        if (await answersPing(port)) return;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill("SIGKILL");
      throw new Error(`redis-server on ${port} did not start`);
    },
    async kill() {
      if (!child || child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGCONT");
      child.kill("SIGKILL");
      await exited;
    },
    pause: () => signal("SIGSTOP"),
    resume: () => signal("SIGCONT"),
  };
}
