// After a small flash sale, what the services count on /metrics is what the clients saw.
import { fireAll, mintTokens } from "@coupon/loadgen";
import { testEndpoints } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { persistedUsers } from "./audit.ts";
import { openFlashSale, type System, startSystem } from "./system.ts";

let system: System;

beforeAll(async () => {
  system = await startSystem("metrics", testEndpoints().kafkaBrokers);
}, 240_000);

afterAll(async () => {
  await system?.stop();
}, 120_000);

/** The value of one sample of a Prometheus text exposition; 0 when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`${name}{`) && wanted.every((pair) => l.includes(pair)));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
}

describe("metrics after a flash sale", () => {
  it("when users race for a coupon, then the issuance outcomes, the request counts and the stored records equal what the clients were answered", async () => {
    const { eventId, couponId } = await openFlashSale(system, 50);
    const tokens = await mintTokens({
      privateKeyPem: system.privateKeyPem,
      issuer: "coupon-user-service",
      audience: "coupon-platform",
      firstUserId: 95_000,
      count: 200,
      expiresInSec: 600,
    });
    const fire = (slice: string[], body: string, concurrency: number) =>
      fireAll({
        origin: system.services.issue.baseUrl,
        path: "/coupon-issues",
        concurrency,
        requests: slice.map((token) => ({ token, body })),
      });
    const body = JSON.stringify({ eventId, couponId });
    const answers = [
      ...(await fire(tokens, body, 20)).results,
      // The first twenty again, and five for a coupon that does not exist.
      ...(await fire(tokens.slice(0, 20), body, 5)).results,
      ...(await fire(tokens.slice(0, 5), JSON.stringify({ eventId, couponId: couponId + 1_000_000 }), 5))
        .results,
    ];
    const seen = (status: number, code?: string) =>
      answers.filter((a) => a.status === status && (code === undefined || a.code === code)).length;
    expect(seen(201)).toBe(50);
    await persistedUsers(system.database.url, couponId, 50);

    const issueMetrics = await (await fetch(`${system.services.issue.baseUrl}/metrics`)).text();
    const outcome = (name: string) => sample(issueMetrics, "coupon_issue_outcomes_total", { outcome: name });
    expect(outcome("issued")).toBe(seen(201));
    expect(outcome("sold-out")).toBe(seen(409, "COUPON_ISSUE_QUANTITY_EXCEEDED"));
    expect(outcome("duplicate")).toBe(seen(409, "COUPON_ALREADY_ISSUED_BY_USER"));
    expect(outcome("coupon-not-found")).toBe(seen(404));
    expect(outcome("issued") + outcome("sold-out") + outcome("duplicate") + outcome("coupon-not-found")).toBe(
      answers.length,
    );
    for (const status of [201, 404, 409]) {
      expect(
        sample(issueMetrics, "http_request_duration_seconds_count", {
          route: "/coupon-issues",
          status: String(status),
        }),
      ).toBe(seen(status));
    }

    const consumerMetrics = await (await fetch(`${system.services.consumer.baseUrl}/metrics`)).text();
    expect(
      sample(consumerMetrics, "issue_consumer_records_persisted_total", { source: "issued" }) +
        sample(consumerMetrics, "issue_consumer_records_persisted_total", { source: "retry" }),
    ).toBe(50);
  }, 120_000);
});
