// CPU time and memory of the processes that take part in a run, read from /proc: how much of the
// two cores each one used while the load ran shows which of them is the bottleneck.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
const STAT = /^\d+ \(.*\) \S+ (.*)$/s;

/** The direct children of a process. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Children, grandchildren and so on. */
function childrenOf(pid: number): number[] {
  return childPids(pid).flatMap((child) => [child, ...childrenOf(child)]);
}

/** User + system CPU ticks of a process (all its threads), or undefined when it is gone. */
function ticksOf(pid: number): number | undefined {
  try {
    // The fields after the state (the command name before it may contain spaces), from field 4 on:
    // utime is field 14 and stime field 15.
    const rest = STAT.exec(readFileSync(`/proc/${pid}/stat`, "utf8"))?.[1]?.split(" ");
    if (!rest) return undefined;
    return Number(rest[14 - 4]) + Number(rest[15 - 4]);
  } catch {
    return undefined;
  }
}

function memoryOf(pid: number): { rssKb: number; hwmKb: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    return { rssKb: kb("VmRSS"), hwmKb: kb("VmHWM") };
  } catch {
    return { rssKb: 0, hwmKb: 0 };
  }
}

function machineTicks(): { busy: number; total: number } {
  const [, ...fields] = (readFileSync("/proc/stat", "utf8").split("\n")[0] as string).trim().split(/\s+/);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
    fields.map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

interface Sample {
  atUs: number;
  machine: { busy: number; total: number };
  groups: Map<string, { ticks: number; rssKb: number }>;
}

export interface ProcessShare {
  name: string;
  /** Share of one core while the load ran: 100 is one core busy all the time. */
  cpuPercent: number;
  /** Largest resident set seen while the load ran, summed over the process and its children. */
  peakRssMb: number;
  /** VmHWM: the largest resident set since the process started (summed over its processes). */
  lifetimePeakRssMb: number;
}

export interface CpuTimeline {
  atUs: number[];
  /** Per process, its share of one core in each interval between samples. */
  cpuPercent: Record<string, number[]>;
}

export interface UsageReport {
  cores: number;
  processes: ProcessShare[];
  /** Busy time of the whole machine, in % of one core (at most cores × 100). */
  machineCpuPercent: number;
  /** Busy time no watched process accounts for: other work on the machine, the kernel's own threads. */
  otherCpuPercent: number;
  timeline: CpuTimeline;
}

export interface ProcessWatch {
  /** Starts watching a process (and its children) under a name, e.g. the generator once it runs. */
  add(name: string, pid: number): void;
  start(intervalMs: number): void;
  stop(): void;
  /**
   * Usage between two moments (process.hrtime microseconds), from the last sample before `fromUs`
   * to the first one after `toUs`: the load's own span, without the set-up and read-out around it.
   */
  report(fromUs: number, toUs: number): UsageReport;
}

/**
 * Watches named processes, each with its children (nginx's workers, a cluster's workers) except
 * those named in `withoutChildren` (the bench itself, whose children are watched under their own names).
 */
export function watchProcesses(
  initial: Record<string, number | undefined>,
  withoutChildren: readonly string[] = [],
): ProcessWatch {
  const roots = new Map<string, number>();
  for (const [name, pid] of Object.entries(initial)) if (pid !== undefined) roots.set(name, pid);
  const samples: Sample[] = [];
  let timer: NodeJS.Timeout | undefined;

  const sample = () => {
    const groups = new Map<string, { ticks: number; rssKb: number }>();
    for (const [name, root] of roots) {
      let ticks = 0;
      let rssKb = 0;
      const previous = samples.at(-1)?.groups.get(name);
      if (ticksOf(root) === undefined) {
        // Gone (the generator, once its run ended): its CPU time stays what it was.
        if (previous) groups.set(name, { ticks: previous.ticks, rssKb: 0 });
        continue;
      }
      for (const pid of [root, ...(withoutChildren.includes(name) ? [] : childrenOf(root))]) {
        ticks += ticksOf(pid) ?? 0;
        rssKb += memoryOf(pid).rssKb;
      }
      groups.set(name, { ticks, rssKb });
    }
    samples.push({ atUs: Number(process.hrtime.bigint() / 1000n), machine: machineTicks(), groups });
  };

  return {
    add(name, pid) {
      roots.set(name, pid);
      // Its CPU until now would otherwise count as used in the first interval it shows up in.
      const last = samples.at(-1);
      if (last) last.groups.set(name, { ticks: ticksOf(pid) ?? 0, rssKb: memoryOf(pid).rssKb });
    },
    start(intervalMs) {
      sample();
      timer = setInterval(sample, intervalMs);
    },
    stop() {
      clearInterval(timer);
      sample();
    },
    report(fromUs, toUs) {
      const startAt = samples.findLastIndex((s) => s.atUs <= fromUs);
      const endAt = samples.findIndex((s) => s.atUs >= toUs);
      const window = samples.slice(Math.max(0, startAt), endAt < 0 ? samples.length : endAt + 1);
      const first = window[0] as Sample;
      const last = window.at(-1) as Sample;
      const seconds = (last.atUs - first.atUs) / 1e6;
      const cores = availableParallelism();
      const share = (ticks: number, overSec: number) =>
        overSec > 0 ? (ticks / CLOCK_TICKS / overSec) * 100 : 0;
      const processes: ProcessShare[] = [...roots.keys()].map((name) => {
        const since = window.find((s) => s.groups.has(name)) ?? first;
        const from = since.groups.get(name)?.ticks ?? 0;
        const to = last.groups.get(name)?.ticks ?? from;
        let hwmKb = 0;
        const root = roots.get(name) as number;
        for (const pid of [root, ...(withoutChildren.includes(name) ? [] : childrenOf(root))])
          hwmKb += memoryOf(pid).hwmKb;
        return {
          name,
          cpuPercent: share(to - from, seconds),
          peakRssMb: Math.max(...window.map((s) => s.groups.get(name)?.rssKb ?? 0)) / 1024,
          lifetimePeakRssMb: hwmKb / 1024,
        };
      });
      const machine =
        last.machine.total > first.machine.total
          ? ((last.machine.busy - first.machine.busy) / (last.machine.total - first.machine.total)) *
            cores *
            100
          : 0;
      const watched = processes.reduce((sum, p) => sum + p.cpuPercent, 0);
      const timeline: CpuTimeline = {
        atUs: window.slice(1).map((s) => s.atUs),
        cpuPercent: Object.fromEntries(
          [...roots.keys()].map((name) => [
            name,
            window.slice(1).map((b, i) => {
              const a = window[i] as Sample;
              const from = a.groups.get(name)?.ticks;
              const to = b.groups.get(name)?.ticks;
              // A child that exits between two samples (Redis's rewrite fork) takes its time with it.
              return from === undefined || to === undefined
                ? 0
                : Math.max(0, share(to - from, (b.atUs - a.atUs) / 1e6));
            }),
          ]),
        ),
      };
      return {
        cores,
        processes,
        machineCpuPercent: machine,
        otherCpuPercent: Math.max(0, machine - watched),
        timeline,
      };
    },
  };
}

/** The pid in a pid file, if the file exists. */
export function pidFromFile(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
