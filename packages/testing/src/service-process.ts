import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { repoRoot } from "./paths.ts";

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ServiceProcess {
  baseUrl: string;
  child: ChildProcess;
  /** Log lines written to stdout so far, parsed. */
  logs: () => Record<string, unknown>[];
  stop: (signal?: NodeJS.Signals) => Promise<ExitResult>;
}

function run(service: string, env: Record<string, string>) {
  // As the launchers start it: telemetry first (it does nothing unless OTEL_* asks for spans).
  const args = [
    "--import",
    "@coupon/telemetry/register",
    resolve(repoRoot, "services", service, "src/server.ts"),
  ];
  const child = spawn(process.execPath, args, {
    cwd: resolve(repoRoot, "services", service),
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<ExitResult>((done) => {
    child.on("exit", (code, signal) => done({ code, signal, stdout, stderr }));
  });
  return { child, exited, output: () => stdout };
}

/** Runs a service until it exits on its own, e.g. because its configuration is rejected. */
export function runServiceToExit(service: string, env: Record<string, string>, timeoutMs = 30_000) {
  const { child, exited } = run(service, env);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return exited.finally(() => clearTimeout(timer));
}

function parseLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Starts a service as its own process on a free port and resolves once it logs "listening". */
export async function startService(
  service: string,
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<ServiceProcess> {
  const { child, exited, output } = run(service, { HOST: "127.0.0.1", PORT: "0", ...env });
  const port = await new Promise<number>((ready, fail) => {
    const timer = setTimeout(() => {
      // Not left running: nobody would stop a process whose start failed.
      child.kill("SIGKILL");
      fail(new Error(`${service} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = () => {
      const listening = parseLines(output()).find((line) => line.msg === "listening");
      const address = listening?.address as { port?: number } | undefined;
      if (address?.port) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        ready(address.port);
      }
    };
    child.stdout?.on("data", onData);
    void exited.then((result) => {
      clearTimeout(timer);
      fail(
        new Error(
          `${service} exited with ${result.code} before listening:\n${result.stderr}${result.stdout}`,
        ),
      );
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    child,
    logs: () => parseLines(output()),
    stop: (signal = "SIGTERM") => {
      child.kill(signal);
      return exited;
    },
  };
}
