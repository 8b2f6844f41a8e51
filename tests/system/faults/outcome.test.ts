import { describe, expect, it } from "vitest";
import { type Answer, type CaseObservation, judge, renderMarkdown } from "./outcome.ts";

const answer = (
  userId: string,
  status: number,
  code: string,
  at: number,
  retry?: Answer["retry"],
): Answer => ({
  userId,
  status,
  code,
  sentAtMs: at,
  doneAtMs: at + 10,
  ...(retry ? { retry } : {}),
});

const observation = (overrides: Partial<CaseObservation>): CaseObservation => ({
  name: "case",
  description: "a case",
  stock: 3,
  faultAtMs: 1_000,
  healedAtMs: 3_000,
  answers: [],
  rows: [],
  redisAccepted: [],
  reconcile: { consistent: true, summary: "consistent" },
  ...overrides,
});

describe("judge: what a fault case did", () => {
  it("when every 201 has its row and nothing else does, then nothing is lost, unannounced or over-issued", () => {
    const outcome = judge(
      observation({
        answers: [
          answer("1", 201, "ISSUED", 0),
          answer("2", 201, "ISSUED", 5),
          answer("3", 409, "COUPON_ISSUE_QUANTITY_EXCEEDED", 6),
        ],
        rows: ["1", "2"],
        redisAccepted: ["1", "2"],
      }),
    );
    expect(outcome).toMatchObject({
      requests: 3,
      created: 2,
      rows: 2,
      lost: 0,
      rowsWithout201: 0,
      neverTold: 0,
      duplicates: 0,
      overIssue: 0,
      byStatus: { "201": 2, "409": 1 },
      errorWindow: null,
    });
  });

  it("when a 201 has no row, a row had no 201, a row repeats and Redis holds more than the stock, then each is counted", () => {
    const outcome = judge(
      observation({
        answers: [
          answer("1", 201, "ISSUED", 1_200),
          answer("2", 503, "ISSUANCE_UNAVAILABLE", 1_500, {
            status: 409,
            code: "COUPON_ALREADY_ISSUED_BY_USER",
          }),
          answer("3", 0, "CLIENT_ERROR:TimeoutError", 2_000, { status: 503, code: "ISSUANCE_UNAVAILABLE" }),
          answer("4", 503, "ISSUANCE_UNAVAILABLE", 2_500, { status: 201, code: "ISSUED" }),
        ],
        rows: ["2", "3", "3", "4"],
        redisAccepted: ["1", "2", "3", "4"],
      }),
    );
    expect(outcome).toMatchObject({
      created: 1,
      createdOnRetry: 1,
      lost: 1,
      rowsWithout201: 2,
      neverTold: 1,
      duplicates: 1,
      overIssue: 1,
      errorsByCode: { ISSUANCE_UNAVAILABLE: 2, "CLIENT_ERROR:TimeoutError": 1 },
      errorWindow: { fromMs: 500, toMs: 1_510 },
      faultDurationMs: 2_000,
    });
  });

  it("renders one table row per case and the details under it", () => {
    const outcome = judge(
      observation({ name: "kafka-down", answers: [answer("1", 201, "ISSUED", 0)], rows: ["1"] }),
    );
    const markdown = renderMarkdown([outcome], "on a test machine");
    expect(markdown).toContain(
      "| kafka-down | 1 | 1 | 0 | 1 | 0 | 0 | 0 | 0 | 0 | 201: 1 | no errors (fault 2.0 s) | consistent |",
    );
    expect(markdown).toContain("### kafka-down");
  });
});
