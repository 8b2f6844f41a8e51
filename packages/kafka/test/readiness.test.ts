import { testEndpoints } from "@coupon/testing";
import { describe, expect, it } from "vitest";
import { createKafkaReadiness } from "../src/index.ts";

describe("createKafkaReadiness", () => {
  it("when the broker answers, then the check resolves", async () => {
    const readiness = createKafkaReadiness({ brokers: testEndpoints().kafkaBrokers, clientId: "ready" });
    try {
      await expect(readiness.check()).resolves.toBeUndefined();
      await expect(readiness.check()).resolves.toBeUndefined();
    } finally {
      await readiness.close();
    }
  });

  it("when no broker listens, then the check rejects instead of hanging, and close still works", async () => {
    const quiet = () => {};
    const logger = { error: quiet, warn: quiet, info: quiet, debug: quiet };
    const readiness = createKafkaReadiness({ brokers: ["127.0.0.1:1"], clientId: "not-ready", logger });
    await expect(readiness.check()).rejects.toThrow();
    await expect(readiness.check()).rejects.toThrow();
    await readiness.close();
  });
});
