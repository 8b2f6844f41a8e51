// Key rotation as an operator does it with files (a mounted Secret): JWT_PRIVATE_KEY_FILE names the
// signing key, JWT_PUBLISHED_KEYS_DIR holds the other public keys to publish. Each step is a new
// app (a rolled Deployment) behind one stable address, like pods behind a Kubernetes Service.
import type { KeyObject } from "node:crypto";
import { createPublicKey } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJwtVerifier, createRemoteJwks, toPublicJwk } from "@coupon/auth";
import { closeServer, type HttpApp } from "@coupon/http";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newRsaKey, privatePem, tokenParts, uniqueEmail, useUserServiceTestContext } from "./support.ts";

const ctx = useUserServiceTestContext("user_key_rotation");
const PASSWORD = "correct horse battery";
let dir: string;
let front: Server;
let baseUrl: string;
let current: HttpApp | undefined;
let jwksRequests = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "user-keys-"));
  front = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === "/.well-known/jwks.json") jwksRequests++;
    current?.(req, res);
  });
  await new Promise<void>((ready) => front.listen(0, "127.0.0.1", ready));
  baseUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await closeServer(front);
  rmSync(dir, { recursive: true, force: true });
});

const kidOf = (key: KeyObject) => toPublicJwk(key).kid;

/** Writes the key files of one step and rolls the app over to them. */
function deploy(step: string, signing: KeyObject, published: KeyObject[]) {
  const stepDir = join(dir, step);
  const publishedDir = join(stepDir, "published");
  mkdirSync(publishedDir, { recursive: true });
  writeFileSync(join(stepDir, "signing.pem"), privatePem(signing), { mode: 0o600 });
  published.forEach((key, i) => {
    const pem = createPublicKey(key).export({ type: "spki", format: "pem" });
    writeFileSync(join(publishedDir, `key-${i}.pem`), pem);
  });
  current = ctx.build({
    JWT_PRIVATE_KEY: undefined,
    JWT_PRIVATE_KEY_FILE: join(stepDir, "signing.pem"),
    JWT_PUBLISHED_KEYS_DIR: publishedDir,
  }).app;
}

async function loginToken(email: string): Promise<string> {
  const res = await request(baseUrl).post("/users/login").send({ email, password: PASSWORD });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.token.accessToken;
}

const publishedKids = async () =>
  (await request(baseUrl).get("/.well-known/jwks.json")).body.keys.map((key: { kid: string }) => key.kid);

const newVerifier = () =>
  createJwtVerifier({
    keys: createRemoteJwks({ url: `${baseUrl}/.well-known/jwks.json`, minRefreshIntervalMs: 0 }),
    issuer: "coupon-user-service",
    audience: "coupon-platform",
  });

async function me(token: string) {
  return request(baseUrl).get("/users/me").set("authorization", `Bearer ${token}`);
}

describe("signing key rotation", () => {
  it("when the key is rotated, then old tokens verify until the old key is retired and new tokens carry the new kid", async () => {
    const [oldKey, newKey] = [newRsaKey(), newRsaKey()];
    const email = uniqueEmail();
    deploy("a-before", oldKey, []);
    const signUp = await request(baseUrl).post("/users/sign-up").send({ email, password: PASSWORD });
    expect(signUp.status).toBe(201);
    const before = await loginToken(email);
    const longLived = newVerifier();
    await longLived.verify(before);
    expect(tokenParts(before).header.kid).toBe(kidOf(oldKey));

    deploy("a-rotated", newKey, [oldKey]);
    const after = await loginToken(email);

    expect(tokenParts(after).header.kid).toBe(kidOf(newKey));
    expect(await publishedKids()).toEqual([kidOf(newKey), kidOf(oldKey)]);
    for (const verifier of [longLived, newVerifier()]) {
      expect(await verifier.verify(before)).toEqual({ userId: signUp.body.id, role: "user" });
      expect(await verifier.verify(after)).toEqual({ userId: signUp.body.id, role: "user" });
    }
    expect((await me(before)).status).toBe(200);

    deploy("a-retired", newKey, []);

    expect(await publishedKids()).toEqual([kidOf(newKey)]);
    await expect(newVerifier().verify(before)).rejects.toMatchObject({ status: 401, code: "INVALID_TOKEN" });
    expect((await me(before)).body.code).toBe("INVALID_TOKEN");
    expect(await newVerifier().verify(after)).toMatchObject({ userId: signUp.body.id });
  });

  it("when the next key is published before it signs, then verifiers hold it at the switch without a refetch", async () => {
    const [oldKey, nextKey] = [newRsaKey(), newRsaKey()];
    const email = uniqueEmail();
    deploy("b-announced", oldKey, [nextKey]);
    await request(baseUrl).post("/users/sign-up").send({ email, password: PASSWORD });
    const verifier = newVerifier();
    const before = await loginToken(email);
    expect(tokenParts(before).header.kid).toBe(kidOf(oldKey));
    await verifier.verify(before);
    const fetchesBeforeSwitch = jwksRequests;

    deploy("b-switched", nextKey, [oldKey]);
    const after = await loginToken(email);

    expect(tokenParts(after).header.kid).toBe(kidOf(nextKey));
    expect(await verifier.verify(after)).toMatchObject({ role: "user" });
    expect(await verifier.verify(before)).toMatchObject({ role: "user" });
    expect(jwksRequests).toBe(fetchesBeforeSwitch);
  });

  it("when the keys are mounted from a Secret, then its linked files are read and the signing key is listed once", async () => {
    const [signing, previous] = [newRsaKey(), newRsaKey()];
    const mount = join(dir, "secret-mount");
    const data = join(mount, "..2026_01_01_00_00_00.1");
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, "signing.pem"), privatePem(signing), { mode: 0o600 });
    writeFileSync(
      join(data, "previous.pem"),
      createPublicKey(previous).export({ type: "spki", format: "pem" }),
    );
    symlinkSync("..2026_01_01_00_00_00.1", join(mount, "..data"));
    for (const name of ["signing.pem", "previous.pem"]) symlinkSync(join("..data", name), join(mount, name));

    current = ctx.build({
      JWT_PRIVATE_KEY: undefined,
      JWT_PRIVATE_KEY_FILE: join(mount, "signing.pem"),
      JWT_PUBLISHED_KEYS_DIR: mount,
    }).app;

    expect(await publishedKids()).toEqual([kidOf(signing), kidOf(previous)]);
  });
});
