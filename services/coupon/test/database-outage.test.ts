// The database goes away (a TCP proxy in front of the test MariaDB refuses connections) or hangs
// (the proxy stops moving bytes): every request that needs it is answered 503 with Retry-After
// within a bounded time, never 500, and the service answers normally once the database is back.
import { createPrismaClient, type PrismaClient, parseDatabaseUrl } from "@coupon/db";
import { TcpProxy } from "@coupon/testing";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  openEventBody,
  percentCouponBody,
  startApp,
  startInfra,
  type TestApp,
  type TestInfra,
} from "./support.ts";

const ACQUIRE_TIMEOUT_MS = 1_000;
const SOCKET_TIMEOUT_MS = 1_500;

let infra: TestInfra;
let proxy: TcpProxy;
let prisma: PrismaClient;
let app: TestApp;

beforeAll(async () => {
  infra = await startInfra("coupon_db_outage");
  const url = new URL(infra.databaseUrl);
  proxy = new TcpProxy(parseDatabaseUrl(infra.databaseUrl));
  await proxy.open();
  url.port = String(proxy.port);
  prisma = createPrismaClient(url.toString(), {
    poolSize: 2,
    acquireTimeoutMs: ACQUIRE_TIMEOUT_MS,
    socketTimeoutMs: SOCKET_TIMEOUT_MS,
  });
  app = await startApp(infra, { prisma });
});

afterAll(async () => {
  await app?.close();
  await prisma?.$disconnect();
  await proxy?.close();
  await infra?.close();
});

const api = () => request(app.baseUrl);
const asAdmin = () => ({ authorization: `Bearer ${infra.adminToken}` });

async function timed(send: () => Promise<request.Response>): Promise<{ res: request.Response; ms: number }> {
  const started = Date.now();
  const res = await send();
  return { res, ms: Date.now() - started };
}

function expectUnavailable({ res, ms }: { res: request.Response; ms: number }, boundMs: number) {
  expect(res.status, JSON.stringify(res.body)).toBe(503);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.headers["retry-after"]).toBe("1");
  expect(res.body).toMatchObject({ status: 503, code: "DATABASE_UNAVAILABLE" });
  expect(ms).toBeLessThan(boundMs);
}

describe("the coupon service while its database is unavailable", () => {
  it("when the database refuses connections, then reads and writes answer 503 within the acquire timeout, and work again once it is back", async () => {
    const created = await api().post("/events").set(asAdmin()).send(openEventBody());
    expect(created.status).toBe(201);
    const eventId = created.body.eventId as number;

    await proxy.close();
    const bound = ACQUIRE_TIMEOUT_MS + 2_000;
    expectUnavailable(await timed(() => api().post("/events").set(asAdmin()).send(openEventBody())), bound);
    expectUnavailable(await timed(() => api().get(`/coupons?eventId=${eventId}`)), bound);
    expectUnavailable(
      await timed(() => api().post("/coupons").set(asAdmin()).send(percentCouponBody(eventId))),
      bound,
    );

    await proxy.open();
    const coupon = await api().post("/coupons").set(asAdmin()).send(percentCouponBody(eventId));
    expect(coupon.status, JSON.stringify(coupon.body)).toBe(201);
    const list = await api().get(`/coupons?eventId=${eventId}`);
    expect(list.status).toBe(200);
    expect(list.body.coupons).toHaveLength(1);
  });

  it("when the database hangs, then a request answers 503 within the socket timeout, and the next ones work once it answers again", async () => {
    const created = await api().post("/events").set(asAdmin()).send(openEventBody());
    expect(created.status).toBe(201);
    const eventId = created.body.eventId as number;

    proxy.stall();
    expectUnavailable(await timed(() => api().get(`/coupons?eventId=${eventId}`)), SOCKET_TIMEOUT_MS + 2_000);

    proxy.resume();
    const list = await api().get(`/coupons?eventId=${eventId}`);
    expect(list.status, JSON.stringify(list.body)).toBe(200);
  });
});
