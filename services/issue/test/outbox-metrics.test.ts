// What an operator watches of the outbox: its backlog and the age of its oldest entry while no
// relay runs, back to zero once one has relayed it, and the batches the relay sent.
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboxBacklogMetrics, relayMetrics } from "../src/adapters/outbox-relay.ts";
import { type Harness, nextCouponId, openCoupon, startHarness } from "./harness.ts";

let h: Harness;

beforeAll(async () => {
  h = await startHarness("outbox-metrics");
});
afterAll(() => h.close());

async function value(registry: Registry, name: string, suffix = ""): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const sample =
    metric?.values.find((v) => (v as { metricName?: string }).metricName === `${name}${suffix}`) ??
    metric?.values[0];
  return Number(sample?.value ?? Number.NaN);
}

describe("outbox metrics", () => {
  it("when issuances wait in the outbox, then the backlog and the oldest entry's age show it, and both fall to zero once relayed", async () => {
    const registry = new Registry();
    outboxBacklogMetrics(registry, h.redis);
    const couponId = nextCouponId();
    await h.writeTerms(openCoupon(couponId, 1, 100));
    const accepted = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        h.post({ eventId: 1, couponId }, h.tokens.token({ sub: String(700 + i) })),
      ),
    );
    expect(accepted.every((r) => r.status === 201)).toBe(true);
    await new Promise((settle) => setTimeout(settle, 1_100));

    expect(await value(registry, "outbox_backlog_entries")).toBe(10);
    expect(await value(registry, "outbox_oldest_entry_age_seconds")).toBeGreaterThanOrEqual(1);

    const relayed = new Registry();
    h.startRelay({ metrics: relayMetrics(relayed) });
    await expect.poll(() => value(registry, "outbox_backlog_entries"), { timeout: 15_000 }).toBe(0);
    expect(await value(registry, "outbox_oldest_entry_age_seconds")).toBe(0);
    expect(await value(relayed, "outbox_relay_batch_size", "_sum")).toBe(10);
    expect(await value(relayed, "outbox_relay_publish_duration_seconds", "_count")).toBeGreaterThanOrEqual(1);
  });
});
