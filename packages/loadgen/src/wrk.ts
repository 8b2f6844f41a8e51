import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface WrkUser {
  userId: string;
  token: string;
}

export interface WrkOptions {
  /** Origin of the server, e.g. http://127.0.0.1:8083. */
  origin: string;
  path: string;
  /** The JSON body every request sends. */
  body: string;
  /** Each request carries the next user's token; users are spread over the wrk threads. */
  users: readonly WrkUser[];
  /** Connections kept busy at once: a closed loop of this many virtual clients. */
  connections: number;
  threads: number;
  durationSec: number;
  /** Reuse users once all have asked (servers that do not care who asks); otherwise stop then. */
  wrap: boolean;
  timeoutSec?: number;
  /** Called with wrk's pid once it runs, e.g. to measure its CPU. */
  onStart?: (pid: number) => void;
  wrkBinary?: string;
}

/** The answers of one run, as parallel arrays (a run has hundreds of thousands of them). */
export interface WrkRecords {
  status: Uint16Array;
  latencyUs: Float64Array;
  /** When the answer arrived: CLOCK_MONOTONIC microseconds, the clock of process.hrtime. */
  doneAtUs: Float64Array;
  userId: string[];
}

export interface WrkResult {
  records: WrkRecords;
  /** When wrk began and ended, on the same clock as the records. */
  startedAtUs: number;
  endedAtUs: number;
  /** Requests sent, answers recorded and wrk's own error counts. */
  sent: number;
  errors: { connect: number; read: number; write: number; timeout: number };
  /** wrk's own histogram (from each request's write to its answer), to cross-check the records. */
  wrkLatencyUs: { p50: number; p95: number; p99: number; max: number; mean: number };
  /** Set when every user had asked before the duration ended (wrap off). */
  usersExhaustedAtUs: number | undefined;
  /** Users whose request was sent but not answered (in flight when the run ended, or failed). */
  unansweredUsers: string[];
}

const SCRIPT = new URL("./wrk-closed-loop.lua", import.meta.url).pathname;
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Runs wrk (C, epoll, one LuaJIT state per thread) as a closed loop in which every request carries
 * a distinct user's token, and returns every answer with its status, latency and arrival time.
 */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const dir = await mkdtemp(join(tmpdir(), "wrk-"));
  try {
    for (let thread = 1; thread <= options.threads; thread++) {
      const out = createWriteStream(join(dir, `users-${thread}.txt`));
      for (let i = thread - 1; i < options.users.length; i += options.threads) {
        const user = options.users[i] as WrkUser;
        if (!out.write(`${user.userId} ${user.token}\n`)) await once(out, "drain");
      }
      out.end();
      await once(out, "finish");
    }
    const output = join(dir, "records.txt");
    const args = [
      `-t${options.threads}`,
      `-c${options.connections}`,
      `-d${options.durationSec}s`,
      `--timeout`,
      `${options.timeoutSec ?? 10}s`,
      "-s",
      SCRIPT,
      options.origin,
    ];
    const startedAtUs = nowUs();
    const child = spawn(options.wrkBinary ?? "wrk", args, {
      env: {
        ...process.env,
        BENCH_TOKENS: join(dir, "users-%d.txt"),
        BENCH_PATH: options.path,
        BENCH_BODY: options.body,
        BENCH_WRAP: options.wrap ? "1" : "0",
        BENCH_OUT: output,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.stdout.resume();
    if (child.pid !== undefined) options.onStart?.(child.pid);
    const [code] = (await once(child, "exit")) as [number | null];
    const endedAtUs = nowUs();
    if (code !== 0) throw new Error(`wrk exited with ${code}: ${stderr.trim()}`);
    return { ...parseWrkOutput(await readFile(output, "utf8")), startedAtUs, endedAtUs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads what wrk-closed-loop.lua's done() wrote. */
export function parseWrkOutput(text: string): Omit<WrkResult, "startedAtUs" | "endedAtUs"> {
  const start = text.indexOf("records\n");
  if (start < 0) throw new Error("wrk wrote no records");
  const head = text.slice(0, start).trim().split("\n");
  const fields = (name: string) =>
    head.filter((line) => line.startsWith(`${name} `)).map((line) => line.split(" ").slice(1).map(Number));
  const [summary] = fields("summary");
  const [latency] = fields("wrk_latency_us");
  const threads = fields("thread");
  const unansweredUsers = head.filter((line) => line.startsWith("unanswered ")).map((line) => line.slice(11));
  if (!summary || !latency) throw new Error("wrk wrote no summary");
  const lines = text.slice(start + "records\n".length).split("\n");
  if (lines.at(-1) === "") lines.pop();
  const n = lines.length;
  const records: WrkRecords = {
    status: new Uint16Array(n),
    latencyUs: new Float64Array(n),
    doneAtUs: new Float64Array(n),
    userId: new Array(n),
  };
  for (let i = 0; i < n; i++) {
    const [status, latencyUs, doneAtUs, userId] = (lines[i] as string).split(" ");
    records.status[i] = Number(status);
    records.latencyUs[i] = Number(latencyUs);
    records.doneAtUs[i] = Number(doneAtUs);
    records.userId[i] = userId as string;
  }
  const exhausted = threads.map((t) => t[3] ?? 0).filter((at) => at > 0);
  const [, , connect = 0, read = 0, write = 0, , timeout = 0] = summary;
  const [p50 = 0, p95 = 0, p99 = 0, max = 0, mean = 0] = latency;
  return {
    records,
    sent: threads.reduce((sum, t) => sum + (t[1] ?? 0), 0),
    errors: { connect, read, write, timeout },
    wrkLatencyUs: { p50, p95, p99, max, mean },
    usersExhaustedAtUs: exhausted.length > 0 ? Math.min(...exhausted) : undefined,
    unansweredUsers,
  };
}
