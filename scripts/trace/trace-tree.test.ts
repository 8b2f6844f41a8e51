import { describe, expect, it } from "vitest";
import { type JaegerSpan, type JaegerTrace, linksTo, renderTrace, rootOf } from "./trace-tree.ts";

const T0 = 1_780_000_000_000_000;

function span(
  traceID: string,
  spanID: string,
  operationName: string,
  options: {
    parent?: string;
    link?: string;
    at?: number;
    duration?: number;
    tags?: Record<string, unknown>;
  } = {},
): JaegerSpan {
  return {
    traceID,
    spanID,
    operationName,
    references: [
      ...(options.parent ? [{ refType: "CHILD_OF" as const, traceID, spanID: options.parent }] : []),
      ...(options.link
        ? [{ refType: "FOLLOWS_FROM" as const, traceID: options.link, spanID: "0000000000000001" }]
        : []),
    ],
    startTime: T0 + (options.at ?? 0),
    duration: options.duration ?? 1000,
    tags: Object.entries(options.tags ?? {}).map(([key, value]) => ({ key, value })),
    processID: "p1",
  };
}

const trace = (traceID: string, spans: JaegerSpan[]): JaegerTrace => ({
  traceID,
  spans,
  processes: { p1: { serviceName: "issue" } },
});

describe("renderTrace", () => {
  it("when a trace has nested spans, then each is a line under its parent in start order, with its offset, duration and tags", () => {
    const request = trace("r", [
      span("r", "c2", "evalsha", {
        parent: "root",
        at: 3000,
        duration: 2500,
        tags: { "db.query.text": "evalsha abc" },
      }),
      span("r", "root", "POST", {
        duration: 8000,
        tags: { "url.path": "/coupon-issues", "http.response.status_code": 201 },
      }),
      span("r", "c1", "GET", { parent: "root", at: 1000, tags: { "otel.status_code": "ERROR" } }),
      span("r", "g1", "GET /coupons/:couponId", { parent: "c1", at: 1500 }),
    ]);
    expect(rootOf(request)?.spanID).toBe("root");
    expect(renderTrace(request, { originUs: T0 })).toEqual([
      "      +0.0 ms       8.0 ms  issue          POST  /coupon-issues  201",
      "      +1.0 ms       1.0 ms  issue          └ GET  ERROR",
      "      +1.5 ms       1.0 ms  issue            └ GET /coupons/:couponId",
      "      +3.0 ms       2.5 ms  issue          └ evalsha  evalsha abc",
    ]);
  });

  it("when a batch has many spans of one name, then they are one line, showing the one that links to the request", () => {
    const batch = trace("b", [
      span("b", "poll", "poll coupon.issued", { at: 900_000 }),
      ...Array.from({ length: 5 }, (_, i) =>
        span("b", `p${i}`, "process coupon.issued", {
          parent: "poll",
          at: 900_100 + i,
          link: i === 3 ? "r" : `other${i}`,
        }),
      ),
      span("b", "child", "handle", { parent: "p3", at: 900_200 }),
      span("b", "other-child", "handle", { parent: "p0", at: 900_150 }),
      span("b", "insert", "prisma:client:db_query", { parent: "poll", at: 901_000 }),
    ]);
    expect(renderTrace(batch, { originUs: T0, focusTraceId: "r" })).toEqual([
      "    +900.0 ms       1.0 ms  issue          poll coupon.issued",
      "    +900.1 ms       1.0 ms  issue          └ process coupon.issued  (this request's; 5 in all)",
      "    +900.2 ms       1.0 ms  issue            └ handle",
      "    +901.0 ms       1.0 ms  issue          └ prisma:client:db_query",
    ]);
    expect(renderTrace(batch, { originUs: T0 })[1]).toBe(
      "    +900.1 ms       1.0 ms  issue          └ process coupon.issued  ×5",
    );
  });

  it("when a tag is long, then it is cut to one line", () => {
    const long = trace("l", [
      span("l", "s", "db_query", { tags: { "db.query.text": `SELECT\n${"x".repeat(100)}` } }),
    ]);
    const [line] = renderTrace(long, { originUs: T0 });
    expect(line).toMatch(/db_query {2}SELECT x+…$/);
    expect(line?.length).toBeLessThan(130);
  });
});

describe("linksTo", () => {
  it("when a span links to a trace, then it is found by that trace's id only, and a parent is no link", () => {
    const linked = span("b", "s", "publish", { link: "r", parent: "x" });
    expect(linksTo(linked, "r")).toBe(true);
    expect(linksTo(linked, "b")).toBe(false);
  });
});
