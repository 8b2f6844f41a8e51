import { describe, expect, it } from "vitest";
import { parseWrkOutput } from "../src/wrk.ts";

describe("parseWrkOutput", () => {
  it("when wrk-closed-loop.lua has written its records, then every answer, error and cut-off user is read", () => {
    const text = [
      "summary 10000000 3 0 1 0 0 2",
      "wrk_latency_us 900 1800 2500 3100 1100",
      "thread 1 3 2 0",
      "unanswered 1000007",
      "thread 2 2 1 5000000",
      "records",
      "201 850 100000 1000001",
      "409 1200 100500 1000002",
      "201 3100 101000 1000003",
      "",
    ].join("\n");
    const result = parseWrkOutput(text);
    expect(Array.from(result.records.status)).toEqual([201, 409, 201]);
    expect(Array.from(result.records.latencyUs)).toEqual([850, 1200, 3100]);
    expect(Array.from(result.records.doneAtUs)).toEqual([100000, 100500, 101000]);
    expect(result.records.userId).toEqual(["1000001", "1000002", "1000003"]);
    expect(result.sent).toBe(5);
    expect(result.errors).toEqual({ connect: 0, read: 1, write: 0, timeout: 2 });
    expect(result.wrkLatencyUs).toEqual({ p50: 900, p95: 1800, p99: 2500, max: 3100, mean: 1100 });
    expect(result.usersExhaustedAtUs).toBe(5000000);
    expect(result.unansweredUsers).toEqual(["1000007"]);
  });
});
