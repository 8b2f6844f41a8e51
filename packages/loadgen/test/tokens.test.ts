import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJwtVerifier, type KeyResolver, toPublicJwk } from "@coupon/auth";
import { afterAll, describe, expect, it } from "vitest";
import { mintTokens } from "../src/tokens.ts";

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const privateKeyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const keys: KeyResolver = {
  getKey: async (kid) => (kid === toPublicJwk(publicKey).kid ? publicKey : undefined),
};
const verifier = createJwtVerifier({ keys, issuer: "iss", audience: "aud" });
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe("mintTokens", () => {
  it("when minting for many users on several threads, then each user gets one token that verifies", async () => {
    const batch = {
      privateKeyPem,
      issuer: "iss",
      audience: "aud",
      firstUserId: 1000,
      count: 25,
      expiresInSec: 3600,
    };
    const tokens = await mintTokens(batch, { threads: 2 });
    expect(tokens).toHaveLength(25);
    const principals = await Promise.all(tokens.map((t) => verifier.verify(t)));
    expect(principals.map((p) => p.userId)).toEqual(Array.from({ length: 25 }, (_, i) => String(1000 + i)));
  });

  it("when a cache folder is given, then a second run reuses the same tokens", async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), "tokens-"));
    dirs.push(cacheDir);
    const batch = {
      privateKeyPem,
      issuer: "iss",
      audience: "aud",
      firstUserId: 1,
      count: 5,
      expiresInSec: 3600,
    };
    const first = await mintTokens(batch, { cacheDir });
    const second = await mintTokens(batch, { cacheDir });
    expect(second).toEqual(first);
    expect(await readdir(cacheDir)).toHaveLength(1);
  });
});
