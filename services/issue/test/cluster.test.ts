// The issue service with HTTP_WORKERS=2 as a real process: the workers share the port and issue,
// the primary alone relays the outbox, /metrics counts the whole pod, a dead worker is replaced, and
// SIGTERM still stops everything in order with exit 0.
import { readFile } from "node:fs/promises";
import { couponKeys } from "@coupon/contracts";
import { type ServiceProcess, startService, testEndpoints } from "@coupon/testing";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, nextCouponId, openCoupon, startHarness } from "./harness.ts";

let h: Harness;
let service: ServiceProcess;
const dispatcher = new Agent({ connections: 16, pipelining: 1 });

beforeAll(async () => {
  h = await startHarness("cluster");
  service = await startService("issue", {
    HTTP_WORKERS: "2",
    REDIS_URL: testEndpoints().redisUrl,
    REDIS_KEY_PREFIX: h.prefix,
    KAFKA_BROKERS: testEndpoints().kafkaBrokers.join(","),
    KAFKA_ISSUED_TOPIC: h.topic,
    COUPON_SERVICE_URL: "http://127.0.0.1:1",
    JWT_JWKS_URL: h.tokens.jwksUrl,
    RELAY_CONSUMER: "cluster-test",
    RELAY_BLOCK_MS: "200",
  });
});
afterAll(async () => {
  if (service.child.exitCode === null) await service.stop("SIGKILL");
  await dispatcher.close();
  await h.close();
});

async function issue(couponId: number, userId: number): Promise<number> {
  const res = await fetch(`${service.baseUrl}/coupon-issues`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${h.tokens.token({ sub: String(userId) })}`,
    },
    body: JSON.stringify({ eventId: 1, couponId }),
    dispatcher,
  } as RequestInit);
  await res.arrayBuffer();
  return res.status;
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${service.baseUrl}/metrics`, { dispatcher } as RequestInit)).text();
  const line = text.split("\n").find((l) => l.startsWith(name));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("issue service with two HTTP workers", () => {
  it("when many users claim at once through the workers, then one relay publishes every issuance, and /metrics sums the workers", async () => {
    const couponId = nextCouponId();
    await h.writeTerms(openCoupon(couponId, 1, 1_000));
    const statuses = await Promise.all(Array.from({ length: 300 }, (_, i) => issue(couponId, 5_000 + i)));
    expect(statuses.every((s) => s === 201)).toBe(true);

    const listening = service.logs().filter((line) => line.msg === "listening");
    expect(listening).toHaveLength(2);
    // Each worker counts its own answers; whichever worker serves the scrape reports all of them.
    for (let scrape = 0; scrape < 4; scrape++) {
      expect(await metric('coupon_issue_outcomes_total{outcome="issued"}')).toBe(300);
    }

    const records = await h.readTopic(300);
    expect(new Set(records.map((r) => r.userId)).size).toBe(300);
    await expect.poll(() => metric("outbox_relay_published_total"), { timeout: 10_000 }).toBe(300);
    const consumers = (await h.redis.xinfo(
      "CONSUMERS",
      couponKeys(couponId).outbox,
      "outbox-relay",
    )) as unknown[][];
    expect(consumers.map((c) => c[1])).toEqual(["cluster-test"]);
  });

  it("when a worker dies, then another takes its place; SIGTERM then stops the workers and the primary with 0", async () => {
    const workers = service.logs().filter((line) => line.msg === "listening").length;
    const primary = service.child.pid as number;
    const [pid] = (await readFile(`/proc/${primary}/task/${primary}/children`, "utf8"))
      .trim()
      .split(/\s+/)
      .map(Number);
    process.kill(pid as number, "SIGKILL");
    await expect
      .poll(() => service.logs().filter((line) => line.msg === "listening").length, { timeout: 15_000 })
      .toBe(workers + 1);
    expect(service.logs().some((line) => line.msg === "HTTP worker died, starting another")).toBe(true);
    const couponId = nextCouponId();
    await h.writeTerms(openCoupon(couponId, 1, 100));
    const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => issue(couponId, 9_000 + i)));
    expect(statuses.every((s) => s === 201)).toBe(true);

    const result = await service.stop("SIGTERM");
    expect(result.code, result.stderr).toBe(0);
    const shutdowns = service.logs().filter((line) => line.msg === "shutdown complete");
    // The two live workers, then the primary.
    expect(shutdowns).toHaveLength(3);
    expect(shutdowns.every((line) => line.failed === false)).toBe(true);
  });
});
