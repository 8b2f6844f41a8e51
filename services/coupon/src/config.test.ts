import { ConfigError, parseConfig } from "@coupon/config";
import { describe, expect, it } from "vitest";
import { configSchema } from "./config.ts";

const valid = {
  DATABASE_URL: "mysql://coupon:coupon@127.0.0.1:3306/coupon",
  REDIS_URL: "redis://127.0.0.1:6379",
  JWT_JWKS_URL: "http://127.0.0.1:8081/.well-known/jwks.json",
};

function variablesRefused(env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(configSchema, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((issue) => issue.variable);
    throw error;
  }
  return [];
}

describe("coupon service configuration", () => {
  it("when only the required variables are set, then the cache and write-back defaults apply", () => {
    expect(parseConfig(configSchema, valid)).toMatchObject({
      PORT: 8082,
      JWT_ISSUER: "coupon-user-service",
      COUPON_CACHE_TTL_MS: 60_000,
      COUPON_CACHE_NOT_FOUND_TTL_MS: 2_000,
      WRITE_BACK_INTERVAL_MS: 5_000,
      WRITE_BACK_LEASE_TTL_MS: 15_000,
      WRITE_BACK_GRACE_MS: 3_600_000,
    });
  });

  it("when JWT_JWKS_URL is missing or not http(s), then it is named", () => {
    expect(variablesRefused({ ...valid, JWT_JWKS_URL: undefined })).toEqual(["JWT_JWKS_URL"]);
    expect(variablesRefused({ ...valid, JWT_JWKS_URL: "file:///jwks.json" })).toEqual(["JWT_JWKS_URL"]);
  });

  it("when the lease would lapse between write-back rounds, then WRITE_BACK_LEASE_TTL_MS is named", () => {
    const env = { ...valid, WRITE_BACK_INTERVAL_MS: "5000", WRITE_BACK_LEASE_TTL_MS: "5000" };
    expect(variablesRefused(env)).toEqual(["WRITE_BACK_LEASE_TTL_MS"]);
  });

  it("when a TTL is not a positive integer, then it is named", () => {
    expect(variablesRefused({ ...valid, COUPON_CACHE_TTL_MS: "0" })).toEqual(["COUPON_CACHE_TTL_MS"]);
  });
});
