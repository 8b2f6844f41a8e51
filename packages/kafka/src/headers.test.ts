import { describe, expect, it } from "vitest";
import {
  deadLetterHeaders,
  HEADER,
  headerValue,
  logContextOf,
  readRetryState,
  replayHeaders,
  retryHeaders,
} from "./headers.ts";

const producerHeaders = {
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  "x-request-id": "req-1",
};
const first = { topic: "coupon.issued", partition: 2, offset: "41", timestamp: "1767225600000" };
const inRetry = { topic: "coupon.issued.retry", partition: 0, offset: "7", timestamp: "1767225601000" };
const inDlt = { topic: "coupon.issued.dlt", partition: 0, offset: "3", timestamp: "1767225609000" };

describe("retry and dead-letter headers", () => {
  it("when a record is first retried, then it keeps its headers and gains the attempt, due time, error and origin", () => {
    const headers = retryHeaders(producerHeaders, {
      position: first,
      attempt: 1,
      notBefore: 1767225601000,
      error: "mysql 1644: rejected",
    });

    expect(headers).toEqual({
      ...producerHeaders,
      "x-retry-attempt": "1",
      "x-retry-not-before": "1767225601000",
      "x-error": "mysql 1644: rejected",
      "x-original-topic": "coupon.issued",
      "x-original-partition": "2",
      "x-original-offset": "41",
      "x-original-timestamp": "1767225600000",
    });
    expect(readRetryState(headers)).toEqual({ attempt: 1, notBefore: 1767225601000 });
  });

  it("when a retried record is retried or parked, then its origin stays the first topic, not the retry topic", () => {
    const once = retryHeaders(producerHeaders, { position: first, attempt: 1, notBefore: 1, error: "a" });

    const twice = retryHeaders(once, { position: inRetry, attempt: 2, notBefore: 2, error: "b" });
    const parked = deadLetterHeaders(twice, {
      position: inRetry,
      kind: "rejected",
      error: "c",
      attempts: 2,
      at: new Date("2026-01-01T00:00:09.000Z"),
    });

    for (const headers of [twice, parked]) {
      expect(headers[HEADER.originalTopic]).toBe("coupon.issued");
      expect(headers[HEADER.originalOffset]).toBe("41");
    }
    expect(twice[HEADER.retryAttempt]).toBe("2");
    expect(parked).toEqual({
      ...producerHeaders,
      "x-original-topic": "coupon.issued",
      "x-original-partition": "2",
      "x-original-offset": "41",
      "x-original-timestamp": "1767225600000",
      "x-error-kind": "rejected",
      "x-error": "c",
      "x-retry-attempt": "2",
      "x-dead-lettered-at": "2026-01-01T00:00:09.000Z",
    });
  });

  it("when an error message is huge, then the header carries its first thousand characters", () => {
    const headers = retryHeaders({}, { position: first, attempt: 1, notBefore: 1, error: "x".repeat(5000) });

    expect(headers[HEADER.error]).toHaveLength(1000);
  });

  it("when a dead letter is replayed, then only the producer's headers remain, with where it came from", () => {
    const parked = deadLetterHeaders(
      { ...producerHeaders, [HEADER.replayedFrom]: "coupon.issued.dlt/0/1" },
      { position: first, kind: "poison", error: "not JSON", attempts: 0, at: new Date() },
    );

    expect(replayHeaders(parked, inDlt)).toEqual({
      ...producerHeaders,
      "x-replayed-from": "coupon.issued.dlt/0/3",
    });
  });

  it("when a header repeats, then every value travels on and the last one is read", () => {
    const headers = retryHeaders(
      { baggage: ["a=1", "b=2"] },
      { position: first, attempt: 1, notBefore: 1, error: "e" },
    );

    expect(headers.baggage).toEqual(["a=1", "b=2"]);
    expect(headerValue(headers, "baggage")).toBe("b=2");
  });
});

describe("readRetryState", () => {
  it("when the retry headers are missing or unreadable, then it is the first retry, due now", () => {
    expect(readRetryState({})).toEqual({ attempt: 1, notBefore: 0 });
    expect(readRetryState({ [HEADER.retryAttempt]: "two", [HEADER.retryNotBefore]: "soon" })).toEqual({
      attempt: 1,
      notBefore: 0,
    });
  });
});

describe("logContextOf", () => {
  it("when the producer passed a request id and a trace context, then both reach the log context", () => {
    expect(logContextOf(producerHeaders)).toEqual({
      request_id: "req-1",
      trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    });
  });

  it("when they are absent or malformed, then the log context leaves them out", () => {
    expect(logContextOf({})).toEqual({});
    expect(logContextOf({ "x-request-id": "a b\nc", traceparent: "00-xyz" })).toEqual({});
  });
});
