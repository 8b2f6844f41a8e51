import type { KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { authEnv } from "@coupon/auth";
import { env, loadConfig, z } from "@coupon/config";
import { databaseEnv } from "@coupon/db";
import { httpServiceEnv } from "@coupon/http";
import { checkRedisEnv, redisEnv } from "@coupon/redis";
import { parsePrivateKey, readPublishedKeys } from "./adapters/key-ring.ts";

/** Reads a key (or set of keys) while the configuration is parsed, so a bad one is named at start-up. */
function keyVariable<T>(load: (value: string) => T) {
  return z.string().transform((value, ctx) => {
    try {
      return load(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  });
}

const NAMED_PROXY_RANGES = new Set(["loopback", "linklocal", "uniquelocal"]);

function isProxyAddress(entry: string): boolean {
  if (NAMED_PROXY_RANGES.has(entry)) return true;
  const [address = "", prefix, ...rest] = entry.split("/");
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d+$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

/**
 * Express's `trust proxy`: which hops may set X-Forwarded-For, so that the rate limit sees the
 * client behind the ingress. "false" (no proxy: the peer is the client), "true" (trust every hop,
 * only when nothing can reach the service except through the proxy), a hop count, or a list of
 * addresses, CIDR ranges and the names loopback, linklocal, uniquelocal.
 */
const trustProxy = z
  .string()
  .trim()
  .default("false")
  .transform((value, ctx): boolean | number | string[] => {
    if (value === "true" || value === "false") return value === "true";
    if (/^\d+$/.test(value)) return Number(value);
    const entries = value.split(",").map((entry) => entry.trim());
    const bad = entries.filter((entry) => !isProxyAddress(entry));
    if (bad.length > 0) {
      ctx.addIssue({
        code: "custom",
        message: `expected true, false, a hop count or addresses/CIDR ranges; not ${bad.join(", ")}`,
      });
      return z.NEVER;
    }
    return entries;
  });

/** argon2id cost; the defaults are OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane). */
export const passwordHashingEnv = {
  ARGON2_MEMORY_KIB: z.coerce.number().int().min(1024).default(19_456),
  ARGON2_TIME_COST: env.positiveInt(2),
  ARGON2_PARALLELISM: z.coerce.number().int().min(1).max(16).default(1),
};

export const configSchema = z
  .object({
    ...httpServiceEnv,
    ...redisEnv,
    ...passwordHashingEnv,
    PORT: env.port(8081),
    ...databaseEnv,
    JWT_ISSUER: authEnv.JWT_ISSUER,
    JWT_AUDIENCE: authEnv.JWT_AUDIENCE,
    JWT_EXPIRES_IN_SEC: env.positiveInt(1800),
    /** The signing key as PEM, e.g. from a Secret through secretKeyRef. */
    JWT_PRIVATE_KEY: keyVariable(parsePrivateKey).optional(),
    /** The signing key's PEM file, e.g. a mounted Secret. */
    JWT_PRIVATE_KEY_FILE: keyVariable((path) => parsePrivateKey(readFileSync(path, "utf8"))).optional(),
    /** More public keys for the JWKS: the next key before a rotation, the previous one after it. */
    JWT_PUBLISHED_KEYS_DIR: keyVariable(readPublishedKeys).optional(),
    LOGIN_MAX_ATTEMPTS_PER_EMAIL: env.positiveInt(10),
    LOGIN_EMAIL_WINDOW_SEC: env.positiveInt(600),
    LOGIN_MAX_ATTEMPTS_PER_ADDRESS: env.positiveInt(100),
    LOGIN_ADDRESS_WINDOW_SEC: env.positiveInt(60),
    SIGN_UP_MAX_PER_ADDRESS: env.positiveInt(20),
    SIGN_UP_ADDRESS_WINDOW_SEC: env.positiveInt(600),
    TRUST_PROXY: trustProxy,
  })
  .superRefine(checkRedisEnv)
  .superRefine((config, ctx) => {
    const given = [config.JWT_PRIVATE_KEY, config.JWT_PRIVATE_KEY_FILE].filter((key) => key !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: "custom",
        path: ["JWT_PRIVATE_KEY_FILE"],
        message:
          "set either JWT_PRIVATE_KEY_FILE (a PEM file) or JWT_PRIVATE_KEY (the PEM), not both and not neither",
      });
    }
  });

export type Config = z.infer<typeof configSchema>;

export const readConfig = (): Config => loadConfig(configSchema);

export function signingKeyOf(config: Config): KeyObject {
  const key = config.JWT_PRIVATE_KEY ?? config.JWT_PRIVATE_KEY_FILE;
  if (!key) throw new Error("the configuration schema lets no config without a signing key through");
  return key;
}
