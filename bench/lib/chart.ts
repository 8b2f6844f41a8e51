// A self-contained SVG of a run: for every load phase, throughput, latency percentiles and the CPU
// share of the busiest processes over time, so a person can see at a glance where a run stalled.
import type { TimelineBin } from "@coupon/loadgen";

export interface ChartPhase {
  title: string;
  bins: TimelineBin[];
  /** Seconds since the phase's start, and per process its share of one core at that time. */
  cpu: { atSec: number[]; percent: Record<string, number[]> };
}

interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
const PANEL = { width: 420, height: 220, left: 56, right: 12, top: 28, bottom: 34 };

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * magnitude >= value) ?? 10;
  return step * magnitude;
}

function panel(x: number, y: number, title: string, yLabel: string, xMax: number, series: Series[]): string {
  const { width, height, left, right, top, bottom } = PANEL;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const yMax = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map(([, py]) => py))));
  const sx = (v: number) => left + (Math.min(v, xMax) / xMax) * plotW;
  const sy = (v: number) => top + plotH - (Math.min(Math.max(v, 0), yMax) / yMax) * plotH;
  const parts = [`<g transform="translate(${x},${y})">`];
  parts.push(`<text x="${left}" y="16" font-size="13" font-weight="bold">${escapeXml(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i;
    parts.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${sy(v)}" y2="${sy(v)}" stroke="#ddd"/>`,
      `<text x="${left - 4}" y="${sy(v) + 4}" font-size="10" text-anchor="end">${Number(v.toPrecision(3)).toLocaleString("en-US")}</text>`,
    );
  }
  for (let i = 0; i <= 5; i++) {
    const v = (xMax / 5) * i;
    parts.push(
      `<text x="${sx(v)}" y="${top + plotH + 14}" font-size="10" text-anchor="middle">${Number(v.toPrecision(3))}</text>`,
    );
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${height - 4}" font-size="10" text-anchor="middle">seconds</text>`,
    `<text transform="translate(12,${top + plotH / 2}) rotate(-90)" font-size="10" text-anchor="middle">${escapeXml(yLabel)}</text>`,
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  );
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points.map(
      ([px, py], j) => `${j === 0 ? "M" : "L"}${sx(px).toFixed(1)},${sy(py).toFixed(1)}`,
    );
    parts.push(`<path d="${d.join("")}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    parts.push(
      `<rect x="${left + 6}" y="${top + 6 + i * 13}" width="10" height="3" fill="${s.color}"/>`,
      `<text x="${left + 20}" y="${top + 11 + i * 13}" font-size="10">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push("</g>");
  return parts.join("\n");
}

export function renderChart(title: string, phases: ChartPhase[]): string {
  const rowHeight = PANEL.height + 10;
  const width = PANEL.width * 3;
  const height = 40 + phases.length * rowHeight;
  const rows = phases.map((phase, i) => {
    const y = 40 + i * rowHeight;
    const at = (bin: Pick<TimelineBin, "atMs">) => bin.atMs / 1000;
    const lastSec = at(phase.bins.at(-1) ?? { atMs: 0 }) + (phase.bins[1]?.atMs ?? 0) / 1000;
    const xMax = Math.max(5, Math.ceil(lastSec / 5) * 5);
    const throughput: Series[] = [
      { name: "answers/s", color: PALETTE[0] as string, points: phase.bins.map((b) => [at(b), b.perSec]) },
    ];
    const latency: Series[] = (["p50Ms", "p95Ms", "p99Ms"] as const).map((key, j) => ({
      name: key.replace("Ms", ""),
      color: PALETTE[j + 1] as string,
      points: phase.bins.filter((b) => b.perSec > 0).map((b) => [at(b), b[key]]),
    }));
    const busiest = Object.entries(phase.cpu.percent)
      .map(([name, values]) => ({ name, values, total: values.reduce((a, b) => a + b, 0) }))
      .sort((a, b) => b.total - a.total)
      .slice(0, 6);
    const cpu: Series[] = busiest.map((p, j) => ({
      name: p.name,
      color: PALETTE[j % PALETTE.length] as string,
      points: p.values.map((v, k) => [phase.cpu.atSec[k] as number, v]),
    }));
    return [
      panel(0, y, `${phase.title}: throughput`, "answers per second", xMax, throughput),
      panel(PANEL.width, y, `${phase.title}: latency`, "milliseconds", xMax, latency),
      panel(PANEL.width * 2, y, `${phase.title}: CPU`, "% of one core", xMax, cpu),
    ].join("\n");
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    ...rows,
    "</svg>",
    "",
  ].join("\n");
}
