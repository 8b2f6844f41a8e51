import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, parseConfig } from "@coupon/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "./config.ts";

let dir: string;
let keyFile: string;
const pem = (key: ReturnType<typeof generateKeyPairSync>["privateKey"]) =>
  String(key.export({ type: "pkcs8", format: "pem" }));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "user-config-"));
  keyFile = join(dir, "signing.pem");
  writeFileSync(keyFile, pem(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = () => ({
  DATABASE_URL: "mysql://u:p@127.0.0.1:3306/users",
  REDIS_URL: "redis://127.0.0.1:6379",
  JWT_PRIVATE_KEY_FILE: keyFile,
});

function issues(env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(configSchema, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.variable}: ${i.message}`);
    throw error;
  }
  return [];
}

describe("user service configuration", () => {
  it("when only the required variables are set, then the documented defaults apply", () => {
    const config = parseConfig(configSchema, base());
    expect(config).toMatchObject({
      PORT: 8081,
      JWT_ISSUER: "coupon-user-service",
      JWT_AUDIENCE: "coupon-platform",
      JWT_EXPIRES_IN_SEC: 1800,
      ARGON2_MEMORY_KIB: 19_456,
      ARGON2_TIME_COST: 2,
      ARGON2_PARALLELISM: 1,
      LOGIN_MAX_ATTEMPTS_PER_EMAIL: 10,
      LOGIN_EMAIL_WINDOW_SEC: 600,
      LOGIN_MAX_ATTEMPTS_PER_ADDRESS: 100,
      LOGIN_ADDRESS_WINDOW_SEC: 60,
      SIGN_UP_MAX_PER_ADDRESS: 20,
      SIGN_UP_ADDRESS_WINDOW_SEC: 600,
      TRUST_PROXY: false,
    });
    expect(config.JWT_PRIVATE_KEY_FILE?.asymmetricKeyType).toBe("rsa");
  });

  it("when the signing key is given inline instead of as a file, then it is used", () => {
    const inline = pem(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey);
    const config = parseConfig(configSchema, {
      ...base(),
      JWT_PRIVATE_KEY_FILE: undefined,
      JWT_PRIVATE_KEY: inline,
    });
    expect(config.JWT_PRIVATE_KEY?.type).toBe("private");
  });

  it("when the signing key is missing, doubled, unreadable or not a strong RSA key, then the variable is named", () => {
    const ecFile = join(dir, "ec.pem");
    writeFileSync(ecFile, pem(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey));
    const weakFile = join(dir, "weak.pem");
    writeFileSync(weakFile, pem(generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey));
    const publicFile = join(dir, "public.pem");
    writeFileSync(
      publicFile,
      generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }),
    );

    expect(issues({ ...base(), JWT_PRIVATE_KEY_FILE: undefined })).toEqual([
      expect.stringMatching(/^JWT_PRIVATE_KEY_FILE: set either .*it is not set/),
    ]);
    expect(
      issues({
        ...base(),
        JWT_PRIVATE_KEY: pem(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey),
      }),
    ).toEqual([expect.stringMatching(/^JWT_PRIVATE_KEY_FILE: set either/)]);
    expect(issues({ ...base(), JWT_PRIVATE_KEY_FILE: join(dir, "missing.pem") })).toEqual([
      expect.stringMatching(/^JWT_PRIVATE_KEY_FILE: ENOENT/),
    ]);
    expect(issues({ ...base(), JWT_PRIVATE_KEY_FILE: ecFile })).toEqual([
      expect.stringMatching(/^JWT_PRIVATE_KEY_FILE: expected an RSA key, got ec/),
    ]);
    expect(issues({ ...base(), JWT_PRIVATE_KEY_FILE: weakFile })).toEqual([
      expect.stringMatching(/^JWT_PRIVATE_KEY_FILE: expected an RSA key of at least 2048 bits, got 1024/),
    ]);
    expect(issues({ ...base(), JWT_PRIVATE_KEY_FILE: publicFile })).toEqual([
      expect.stringMatching(/^JWT_PRIVATE_KEY_FILE: expected a PEM-encoded private key/),
    ]);
    const [inline] = issues({
      ...base(),
      JWT_PRIVATE_KEY_FILE: undefined,
      JWT_PRIVATE_KEY: "-----BEGIN junk",
    });
    expect(inline).toMatch(/^JWT_PRIVATE_KEY: expected a PEM-encoded private key/);
    expect(inline).not.toContain("junk");
  });

  it("when a published key file is not an RSA key, then JWT_PUBLISHED_KEYS_DIR and the file are named", () => {
    const published = join(dir, "published");
    mkdirSync(published);
    writeFileSync(join(published, "previous.pem"), "not a key");

    expect(issues({ ...base(), JWT_PUBLISHED_KEYS_DIR: published })).toEqual([
      expect.stringMatching(/^JWT_PUBLISHED_KEYS_DIR: previous\.pem: /),
    ]);
    expect(issues({ ...base(), JWT_PUBLISHED_KEYS_DIR: join(dir, "nowhere") })).toEqual([
      expect.stringMatching(/^JWT_PUBLISHED_KEYS_DIR: ENOENT/),
    ]);
  });

  it("when TRUST_PROXY is a boolean, a hop count or addresses, then Express gets that; otherwise it is named", () => {
    const trust = (value: string) => parseConfig(configSchema, { ...base(), TRUST_PROXY: value }).TRUST_PROXY;
    expect(trust("true")).toBe(true);
    expect(trust("false")).toBe(false);
    expect(trust("1")).toBe(1);
    expect(trust("loopback, 10.0.0.0/8, fd00::/8, 192.0.2.1")).toEqual([
      "loopback",
      "10.0.0.0/8",
      "fd00::/8",
      "192.0.2.1",
    ]);
    for (const bad of ["ingress.local", "10.0.0.0/33", "10.0.0.0/8/1", "yes"]) {
      expect(issues({ ...base(), TRUST_PROXY: bad }), bad).toEqual([expect.stringMatching(/^TRUST_PROXY: /)]);
    }
  });
});
