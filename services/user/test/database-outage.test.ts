// The user service as a real process whose database sits behind a TCP proxy: while the proxy
// refuses connections or stops moving bytes, sign-up and login answer 503 with Retry-After within
// the configured timeouts (never 500, never a hang), and work again once the database is back.
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDatabaseUrl } from "@coupon/db";
import { createTestDatabase, type TestDatabase } from "@coupon/db/testing";
import { type ServiceProcess, startService, TcpProxy, testEndpoints } from "@coupon/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAST_ARGON2, uniqueEmail } from "./support.ts";

const ACQUIRE_TIMEOUT_MS = 1_000;
const SOCKET_TIMEOUT_MS = 1_500;

let database: TestDatabase;
let keyDir: string;
let proxy: TcpProxy;
let service: ServiceProcess;

beforeAll(async () => {
  database = await createTestDatabase({
    serverUrl: testEndpoints().databaseServerUrl,
    label: "user_db_outage",
  });
  proxy = new TcpProxy(parseDatabaseUrl(database.url));
  await proxy.open();
  const viaProxy = new URL(database.url);
  viaProxy.port = String(proxy.port);
  keyDir = await mkdtemp(join(tmpdir(), "user-db-outage-"));
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  await writeFile(join(keyDir, "signing.pem"), privateKey.export({ type: "pkcs8", format: "pem" }));
  service = await startService("user", {
    ...FAST_ARGON2,
    DATABASE_URL: viaProxy.toString(),
    DATABASE_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_TIMEOUT_MS),
    DATABASE_SOCKET_TIMEOUT_MS: String(SOCKET_TIMEOUT_MS),
    REDIS_URL: testEndpoints().redisUrl,
    REDIS_KEY_PREFIX: `test:user_db_outage:${process.pid}:`,
    JWT_PRIVATE_KEY_FILE: join(keyDir, "signing.pem"),
  });
});

afterAll(async () => {
  await service?.stop();
  await proxy?.close();
  await database?.drop();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

async function post(path: string, body: unknown) {
  const started = Date.now();
  const res = await fetch(`${service.baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { res, body: (await res.json()) as Record<string, unknown>, ms: Date.now() - started };
}

async function expectUnavailable(answer: ReturnType<typeof post>, boundMs: number) {
  const { res, body, ms } = await answer;
  expect(res.status, JSON.stringify(body)).toBe(503);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.headers.get("retry-after")).toBe("1");
  expect(body).toMatchObject({ status: 503, code: "DATABASE_UNAVAILABLE" });
  expect(ms).toBeLessThan(boundMs);
}

describe("the user service while its database is unavailable", () => {
  it("when the database refuses connections, and then hangs, then sign-up and login answer 503 within the timeouts, and work again once it is back", async () => {
    const known = { email: uniqueEmail("known"), password: "a-good-password" };
    expect((await post("/users/sign-up", known)).res.status).toBe(201);

    await proxy.close();
    const refusedBound = ACQUIRE_TIMEOUT_MS + 2_000;
    await expectUnavailable(
      post("/users/sign-up", { email: uniqueEmail(), password: "a-good-password" }),
      refusedBound,
    );
    await expectUnavailable(post("/users/login", known), refusedBound);

    await proxy.open();
    proxy.stall();
    await expectUnavailable(
      post("/users/login", known),
      Math.max(ACQUIRE_TIMEOUT_MS, SOCKET_TIMEOUT_MS) + 2_000,
    );

    proxy.resume();
    const login = await post("/users/login", known);
    expect(login.res.status, JSON.stringify(login.body)).toBe(200);
    const fresh = await post("/users/sign-up", { email: uniqueEmail(), password: "a-good-password" });
    expect(fresh.res.status, JSON.stringify(fresh.body)).toBe(201);
  });
});
