import { couponKeys, couponViewSchema } from "@coupon/contracts";
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

let infra: TestInfra;
let app: TestApp;

beforeAll(async () => {
  infra = await startInfra("coupon_admin");
  app = await startApp(infra);
});

afterAll(async () => {
  await app?.close();
  await infra?.close();
});

const api = () => request(app.baseUrl);
const asAdmin = () => ({ authorization: `Bearer ${infra.adminToken}` });
const asUser = () => ({ authorization: `Bearer ${infra.userToken}` });

function expectProblem(res: request.Response, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code });
}

const namedFields = (res: request.Response) =>
  (res.body.errors as { field: string }[]).map((error) => error.field).sort();

async function givenEvent(overrides: Record<string, unknown> = {}): Promise<number> {
  const res = await api().post("/events").set(asAdmin()).send(openEventBody(overrides));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.eventId;
}

async function givenCoupon(eventId: number, overrides: Record<string, unknown> = {}) {
  const res = await api().post("/coupons").set(asAdmin()).send(percentCouponBody(eventId, overrides));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return couponViewSchema.parse(res.body);
}

describe("POST /events", () => {
  it("when an admin sends a valid event, then 201 with its id and UTC instants", async () => {
    const res = await api()
      .post("/events")
      .set(asAdmin())
      .send({ name: "Black Friday", startsAt: "2026-11-27T09:00:00+09:00", endsAt: "2026-11-28T00:00:00Z" });

    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      eventId: expect.any(Number),
      name: "Black Friday",
      startsAt: "2026-11-27T00:00:00.000Z",
      endsAt: "2026-11-28T00:00:00.000Z",
    });
    const row = await infra.prisma.event.findUniqueOrThrow({ where: { id: BigInt(res.body.eventId) } });
    expect(row.startsAt.toISOString()).toBe("2026-11-27T00:00:00.000Z");
  });

  it("when the event ends before it starts and has no name, then 400 naming endsAt and name", async () => {
    const res = await api()
      .post("/events")
      .set(asAdmin())
      .send({ name: "", startsAt: "2026-11-28T00:00:00Z", endsAt: "2026-11-27T00:00:00Z" });

    expectProblem(res, 400, "VALIDATION_FAILED");
    expect(namedFields(res)).toEqual(["endsAt", "name"]);
  });
});

describe("POST /coupons", () => {
  it("when an admin sends a valid coupon, then 201 with the coupon view, its location, and nothing cached", async () => {
    const eventId = await givenEvent({ startsAt: "2026-11-27T00:00:00Z", endsAt: "2026-11-28T00:00:00Z" });

    const res = await api()
      .post("/coupons")
      .set(asAdmin())
      .send(percentCouponBody(eventId, { maxQuantity: 1000 }));

    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      couponId: expect.any(Number),
      eventId,
      discountType: "PERCENT",
      discountRate: 10,
      discountPrice: null,
      maxQuantity: 1000,
      validFrom: "2026-11-27T00:00:00.000Z",
      validUntil: "2026-12-31T23:59:59.999Z",
      issueStartsAt: "2026-11-27T00:00:00.000Z",
      issueEndsAt: "2026-11-28T00:00:00.000Z",
      termsVersion: 1,
    });
    expect(couponViewSchema.safeParse(res.body).success).toBe(true);
    expect(res.headers.location).toBe(`/coupons/${res.body.couponId}`);
    const row = await infra.prisma.coupon.findUniqueOrThrow({ where: { id: BigInt(res.body.couponId) } });
    expect(row).toMatchObject({ maxQuantity: 1000, issuedQuantity: 0, discountPrice: null });
    // Write-around: creation writes the database only.
    expect(await infra.redis.exists(couponKeys(res.body.couponId).meta)).toBe(0);
  });

  it("when an AMOUNT coupon is sent, then it is stored with its price and no rate", async () => {
    const eventId = await givenEvent();
    const { discountRate: _, ...body } = percentCouponBody(eventId);

    const res = await api()
      .post("/coupons")
      .set(asAdmin())
      .send({ ...body, discountType: "AMOUNT", discountPrice: 5000 });

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ discountType: "AMOUNT", discountRate: null, discountPrice: 5000 });
  });

  it("when several rules are broken, then 400 naming each field, and nothing is stored", async () => {
    const eventId = await givenEvent();
    const before = await infra.prisma.coupon.count();

    const res = await api()
      .post("/coupons")
      .set(asAdmin())
      .send(
        percentCouponBody(eventId, {
          maxQuantity: 0,
          discountPrice: 500,
          validFrom: "2026-12-31T00:00:00Z",
          validUntil: "2026-12-01T00:00:00Z",
        }),
      );

    expectProblem(res, 400, "VALIDATION_FAILED");
    expect(namedFields(res)).toEqual(["discountPrice", "maxQuantity", "validUntil"]);
    expect(await infra.prisma.coupon.count()).toBe(before);
  });

  it.each([
    [{ maxQuantity: 2.5 }, "maxQuantity"],
    [{ maxQuantity: -3 }, "maxQuantity"],
    [{ discountRate: 150 }, "discountRate"],
    [{ discountType: "AMOUNT" }, "discountPrice"],
    [{ discountType: "AMOUNT", discountRate: null, discountPrice: -1 }, "discountPrice"],
    [{ eventId: "one" }, "eventId"],
  ])("when %j, then 400 naming %s", async (overrides, field) => {
    const res = await api().post("/coupons").set(asAdmin()).send(percentCouponBody(1, overrides));

    expectProblem(res, 400, "VALIDATION_FAILED");
    expect(namedFields(res)).toContain(field);
  });

  it("when the event does not exist, then 404 EVENT_NOT_FOUND naming eventId", async () => {
    const res = await api().post("/coupons").set(asAdmin()).send(percentCouponBody(987_654));

    expectProblem(res, 404, "EVENT_NOT_FOUND");
    expect(namedFields(res)).toEqual(["eventId"]);
  });
});

describe("admin routes refuse everyone else", () => {
  it("when a user's token is sent, then 403 ACCESS_DENIED and nothing is created or changed", async () => {
    const eventId = await givenEvent();
    const coupon = await givenCoupon(eventId);
    const [events, coupons] = [await infra.prisma.event.count(), await infra.prisma.coupon.count()];

    const answers = [
      await api().post("/events").set(asUser()).send(openEventBody()),
      await api().post("/coupons").set(asUser()).send(percentCouponBody(eventId)),
      await api().patch(`/coupons/${coupon.couponId}`).set(asUser()).send({ maxQuantity: 5 }),
    ];

    for (const res of answers) expectProblem(res, 403, "ACCESS_DENIED");
    expect([await infra.prisma.event.count(), await infra.prisma.coupon.count()]).toEqual([events, coupons]);
    const row = await infra.prisma.coupon.findUniqueOrThrow({ where: { id: BigInt(coupon.couponId) } });
    expect(row.maxQuantity).toBe(coupon.maxQuantity);
  });

  it("when no token is sent, then 401 NOT_TOKEN with a Bearer challenge, before the body is looked at", async () => {
    const res = await api().post("/coupons").send({ nonsense: true });

    expectProblem(res, 401, "NOT_TOKEN");
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer/);
  });

  it("when the token is forged, then 401 INVALID_TOKEN", async () => {
    const [header, , signature] = infra.userToken.split(".");
    const claims = JSON.parse(Buffer.from(infra.adminToken.split(".")[1] as string, "base64url").toString());
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;

    const res = await api()
      .post("/events")
      .set({ authorization: `Bearer ${forged}` })
      .send(openEventBody());

    expectProblem(res, 401, "INVALID_TOKEN");
  });
});

describe("PATCH /coupons/{couponId}", () => {
  it("when the stock would drop below the issued count, then 409 naming maxQuantity, and the stock is kept", async () => {
    const coupon = await givenCoupon(await givenEvent(), { maxQuantity: 10 });
    await infra.redis.sadd(couponKeys(coupon.couponId).issued, "11", "12", "13", "14");

    const below = await api().patch(`/coupons/${coupon.couponId}`).set(asAdmin()).send({ maxQuantity: 3 });
    const atCount = await api().patch(`/coupons/${coupon.couponId}`).set(asAdmin()).send({ maxQuantity: 4 });

    expectProblem(below, 409, "COUPON_STOCK_BELOW_ISSUED");
    expect(below.body.errors).toEqual([
      { field: "maxQuantity", message: "must be at least 4, the number already issued" },
    ]);
    expect(atCount.status).toBe(200);
    expect(atCount.body).toMatchObject({ couponId: coupon.couponId, maxQuantity: 4 });
  });

  it("when rows in coupon_issues outnumber the Redis set (lost Redis data), then they are the floor", async () => {
    const coupon = await givenCoupon(await givenEvent(), { maxQuantity: 10 });
    await infra.prisma.couponIssue.createMany({
      data: [21n, 22n, 23n].map((userId) => ({ couponId: BigInt(coupon.couponId), userId })),
    });

    const res = await api().patch(`/coupons/${coupon.couponId}`).set(asAdmin()).send({ maxQuantity: 2 });

    expectProblem(res, 409, "COUPON_STOCK_BELOW_ISSUED");
  });

  it("when the new end falls before the stored start, then 400 naming validUntil", async () => {
    const coupon = await givenCoupon(await givenEvent());

    const res = await api()
      .patch(`/coupons/${coupon.couponId}`)
      .set(asAdmin())
      .send({ validUntil: "2026-11-01T00:00:00Z" });

    expectProblem(res, 400, "VALIDATION_FAILED");
    expect(namedFields(res)).toEqual(["validUntil"]);
  });

  it("when the body changes nothing or the id is not an id, then 400; when the coupon is unknown, then 404", async () => {
    const coupon = await givenCoupon(await givenEvent());

    expectProblem(
      await api().patch(`/coupons/${coupon.couponId}`).set(asAdmin()).send({}),
      400,
      "VALIDATION_FAILED",
    );
    const badId = await api().patch("/coupons/x1").set(asAdmin()).send({ maxQuantity: 5 });
    expectProblem(badId, 400, "VALIDATION_FAILED");
    expect(namedFields(badId)).toEqual(["couponId"]);
    expectProblem(
      await api().patch("/coupons/987654").set(asAdmin()).send({ maxQuantity: 5 }),
      404,
      "COUPON_NOT_FOUND",
    );
  });

  it("when two admins change the two ends of the window at once, then the stored window is still valid", async () => {
    const coupon = await givenCoupon(await givenEvent(), {
      validFrom: "2026-11-01T00:00:00Z",
      validUntil: "2026-11-30T00:00:00Z",
    });

    // Each change is valid against the stored window, together they would invert it.
    const [later, earlier] = await Promise.all([
      api().patch(`/coupons/${coupon.couponId}`).set(asAdmin()).send({ validFrom: "2026-11-20T00:00:00Z" }),
      api().patch(`/coupons/${coupon.couponId}`).set(asAdmin()).send({ validUntil: "2026-11-10T00:00:00Z" }),
    ]);

    expect([later.status, earlier.status].sort()).toEqual([200, 400]);
    const row = await infra.prisma.coupon.findUniqueOrThrow({ where: { id: BigInt(coupon.couponId) } });
    expect(row.validFrom.getTime()).toBeLessThan(row.validUntil.getTime());
  });
});

describe("GET /coupons?eventId=", () => {
  it("when the event has coupons, then they are listed in creation order", async () => {
    const eventId = await givenEvent();
    const first = await givenCoupon(eventId, { maxQuantity: 1 });
    const second = await givenCoupon(eventId, { maxQuantity: 2 });
    await givenCoupon(await givenEvent());

    const res = await api().get(`/coupons?eventId=${eventId}`);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ eventId, coupons: [first, second] });
  });

  it("when the event has none, then an empty list; when it does not exist, then 404 EVENT_NOT_FOUND", async () => {
    const eventId = await givenEvent();

    expect((await api().get(`/coupons?eventId=${eventId}`)).body).toEqual({ eventId, coupons: [] });
    expectProblem(await api().get("/coupons?eventId=987654"), 404, "EVENT_NOT_FOUND");
  });

  it.each(["/coupons", "/coupons?eventId=abc", "/coupons?eventId=1&eventId=2"])(
    "when %s, then 400 naming eventId",
    async (path) => {
      const res = await api().get(path);

      expectProblem(res, 400, "VALIDATION_FAILED");
      expect(namedFields(res)).toEqual(["eventId"]);
    },
  );
});

describe("GET /coupons/{couponId}", () => {
  it("when the coupon exists, then anyone reads its view without a token", async () => {
    const coupon = await givenCoupon(await givenEvent());

    const res = await api().get(`/coupons/${coupon.couponId}`);

    expect(res.status).toBe(200);
    expect(res.body).toEqual(coupon);
  });

  it("when the id is unknown, then 404 COUPON_NOT_FOUND; when it is not an id, then 400 naming couponId", async () => {
    expectProblem(await api().get("/coupons/987654"), 404, "COUPON_NOT_FOUND");
    for (const bad of ["abc", "0", "-1", "1.5", "99999999999999999999"]) {
      const res = await api().get(`/coupons/${bad}`);
      expectProblem(res, 400, "VALIDATION_FAILED");
      expect(namedFields(res)).toEqual(["couponId"]);
    }
  });
});

describe("GET /coupons/{couponId}/stats", () => {
  it("when users hold the coupon and some rows are persisted, then issued, persisted and remaining say so", async () => {
    const coupon = await givenCoupon(await givenEvent(), { maxQuantity: 5 });
    await infra.redis.sadd(couponKeys(coupon.couponId).issued, "31", "32", "33");
    await infra.prisma.couponIssue.createMany({
      data: [31n, 32n].map((userId) => ({ couponId: BigInt(coupon.couponId), userId })),
    });

    const res = await api().get(`/coupons/${coupon.couponId}/stats`);

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      couponId: coupon.couponId,
      maxQuantity: 5,
      issued: 3,
      persisted: 2,
      remaining: 2,
    });
  });

  it("when more are issued than the stock (lowered while issuing), then remaining is 0, not negative", async () => {
    const coupon = await givenCoupon(await givenEvent(), { maxQuantity: 2 });
    await infra.redis.sadd(couponKeys(coupon.couponId).issued, "41", "42", "43");

    const res = await api().get(`/coupons/${coupon.couponId}/stats`);

    expect(res.body).toMatchObject({ issued: 3, remaining: 0 });
  });

  it("when the coupon is unknown, then 404 COUPON_NOT_FOUND", async () => {
    expectProblem(await api().get("/coupons/987654/stats"), 404, "COUPON_NOT_FOUND");
  });
});
