import { describe, expect, it } from "vitest";
import { ConfigError, env, parseConfig, z } from "../src/index.ts";

const schema = z.object({
  PORT: env.port(3000),
  REDIS_URL: env.url(["redis", "rediss"]),
  KAFKA_BROKERS: env.list(),
  CACHE_ENABLED: env.boolean(true),
  DATABASE_PASSWORD: env.string(),
  LOG_LEVEL: env.logLevel(),
});

const valid = { REDIS_URL: "redis://127.0.0.1:6379", KAFKA_BROKERS: "a:1, b:2", DATABASE_PASSWORD: "s3cret" };

function issuesOf(input: Record<string, string | undefined>) {
  try {
    parseConfig(schema, input);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  it("when the environment is valid, then values are typed and defaults applied", () => {
    const config = parseConfig(schema, valid);
    expect(config).toEqual({
      PORT: 3000,
      REDIS_URL: "redis://127.0.0.1:6379",
      KAFKA_BROKERS: ["a:1", "b:2"],
      CACHE_ENABLED: true,
      DATABASE_PASSWORD: "s3cret",
      LOG_LEVEL: "info",
    });
  });

  it("when a variable is malformed, then the issue names it and shows the value", () => {
    const issues = issuesOf({ ...valid, PORT: "http" });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.variable).toBe("PORT");
    expect(issues[0]?.message).toContain('got "http"');
  });

  it("when a required variable is missing, then the issue says it is not set", () => {
    const issues = issuesOf({ KAFKA_BROKERS: "a:1", DATABASE_PASSWORD: "x" });
    expect(issues.map((i) => i.variable)).toEqual(["REDIS_URL"]);
    expect(issues[0]?.message).toContain("it is not set");
  });

  it("when a URL has the wrong scheme, then the expected schemes are named", () => {
    const issues = issuesOf({ ...valid, REDIS_URL: "http://localhost" });
    expect(issues[0]?.message).toContain("redis://");
  });

  it("when a secret is invalid, then its value never appears in the message", () => {
    const issues = issuesOf({ ...valid, DATABASE_PASSWORD: "  " });
    expect(issues[0]?.variable).toBe("DATABASE_PASSWORD");
    expect(issues[0]?.message).not.toContain("  ");
    expect(issues[0]?.message).toContain("hidden");
  });

  it("when several variables are wrong, then all of them are reported at once", () => {
    const issues = issuesOf({ ...valid, PORT: "70000", CACHE_ENABLED: "yes", KAFKA_BROKERS: " , " });
    expect(issues.map((i) => i.variable).sort()).toEqual(["CACHE_ENABLED", "KAFKA_BROKERS", "PORT"]);
  });
});
