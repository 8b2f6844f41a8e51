// Renders traces from Jaeger's query API (GET /api/traces, its JSON model) as indented text: one
// request's trace, and the traces that link to it (the relay's batch, the consumer's batch).

export interface JaegerReference {
  refType: "CHILD_OF" | "FOLLOWS_FROM";
  traceID: string;
  spanID: string;
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: JaegerReference[];
  /** Microseconds since the epoch. */
  startTime: number;
  /** Microseconds. */
  duration: number;
  tags: { key: string; value: unknown }[];
  processID: string;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

/** Siblings of one name beyond this many are shown as one line with their count. */
const COLLAPSE_FROM = 4;
const TEXT_WIDTH = 60;

const tagsOf = (span: JaegerSpan) => new Map(span.tags.map((tag) => [tag.key, tag.value]));

/** Whether the span links (a span link, FOLLOWS_FROM in Jaeger's model) to a span of the trace. */
export function linksTo(span: JaegerSpan, traceId: string): boolean {
  return span.references.some((ref) => ref.refType === "FOLLOWS_FROM" && ref.traceID === traceId);
}

/** The spans whose parent is not in the trace, earliest first. */
function rootsOf(trace: JaegerTrace): JaegerSpan[] {
  const ids = new Set(trace.spans.map((span) => span.spanID));
  return trace.spans
    .filter((span) => !span.references.some((ref) => ref.refType === "CHILD_OF" && ids.has(ref.spanID)))
    .sort((a, b) => a.startTime - b.startTime);
}

/** The span that names the trace: the one without a parent in it, the earliest if several. */
export function rootOf(trace: JaegerTrace): JaegerSpan | undefined {
  return rootsOf(trace)[0];
}

function describe(span: JaegerSpan): string {
  const tags = tagsOf(span);
  const details = [
    tags.get("http.route") ?? tags.get("url.path"),
    tags.get("http.response.status_code"),
    tags.get("db.query.text"),
    tags.get("otel.status_code") === "ERROR" || tags.get("error") === true ? "ERROR" : undefined,
  ]
    .filter((detail) => detail !== undefined && detail !== "")
    .map((detail) => {
      const text = String(detail).replace(/\s+/g, " ");
      return text.length > TEXT_WIDTH ? `${text.slice(0, TEXT_WIDTH - 1)}…` : text;
    });
  return [span.operationName, ...details].join("  ");
}

const ms = (microseconds: number) => (microseconds / 1000).toFixed(1);

export interface RenderOptions {
  /** Offsets are from this moment (µs since the epoch): the request's start. */
  originUs: number;
  /** Among collapsed siblings, the one that links to this trace is shown, with its subtree. */
  focusTraceId?: string;
}

/**
 * One line per span, children under their parent in start order: offset from the origin,
 * duration, service, operation and its telling tags. Four or more siblings of one name are one
 * line with their count, showing the one that links to the focus trace if there is one.
 */
export function renderTrace(trace: JaegerTrace, options: RenderOptions): string[] {
  const children = new Map<string, JaegerSpan[]>();
  for (const span of trace.spans) {
    const parent = span.references.find((ref) => ref.refType === "CHILD_OF" && ref.traceID === trace.traceID);
    if (parent === undefined) continue;
    children.set(parent.spanID, [...(children.get(parent.spanID) ?? []), span]);
  }
  const serviceOf = (span: JaegerSpan) => trace.processes[span.processID]?.serviceName ?? "?";
  const lines: string[] = [];

  const line = (span: JaegerSpan, depth: number, suffix: string) => {
    const offset = `${span.startTime >= options.originUs ? "+" : "-"}${ms(Math.abs(span.startTime - options.originUs))}`;
    const indent = depth === 0 ? "" : `${"  ".repeat(depth - 1)}└ `;
    lines.push(
      `${offset.padStart(10)} ms ${ms(span.duration).padStart(9)} ms  ${serviceOf(span).padEnd(15)}${indent}${describe(span)}${suffix}`,
    );
  };

  const visit = (spans: JaegerSpan[], depth: number) => {
    const sorted = [...spans].sort((a, b) => a.startTime - b.startTime);
    const byName = new Map<string, JaegerSpan[]>();
    for (const span of sorted)
      byName.set(span.operationName, [...(byName.get(span.operationName) ?? []), span]);
    for (const span of sorted) {
      const group = byName.get(span.operationName) as JaegerSpan[];
      if (group.length < COLLAPSE_FROM) {
        line(span, depth, "");
        visit(children.get(span.spanID) ?? [], depth + 1);
        continue;
      }
      const focus = options.focusTraceId;
      const linked = focus === undefined ? undefined : group.find((member) => linksTo(member, focus));
      if (span !== (linked ?? group[0])) continue;
      line(span, depth, linked ? `  (this request's; ${group.length} in all)` : `  ×${group.length}`);
      if (linked) visit(children.get(span.spanID) ?? [], depth + 1);
    }
  };

  visit(rootsOf(trace), 0);
  return lines;
}
