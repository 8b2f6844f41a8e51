// The login rate limit in Redis: per email and per client address, shared by replicas. The apps
// trust loopback as their proxy, so X-Forwarded-For stands for the client behind the ingress.
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { type RunningUserService, uniqueEmail, useUserServiceTestContext } from "./support.ts";

const ctx = useUserServiceTestContext("user_login_rate_limit");
const PASSWORD = "correct horse battery";
const LIMITS = {
  LOGIN_MAX_ATTEMPTS_PER_EMAIL: "3",
  LOGIN_EMAIL_WINDOW_SEC: "60",
  LOGIN_MAX_ATTEMPTS_PER_ADDRESS: "5",
  LOGIN_ADDRESS_WINDOW_SEC: "60",
  SIGN_UP_MAX_PER_ADDRESS: "3",
  SIGN_UP_ADDRESS_WINDOW_SEC: "60",
  TRUST_PROXY: "loopback",
};
let api: RunningUserService;

beforeAll(async () => {
  api = await ctx.start(LIMITS);
});

/** A client address of the documentation range (RFC 3849), only ever sent as a header value. */
let addresses = 0;
const uniqueAddress = () => {
  addresses++;
  return `2001:db8::${addresses.toString(16)}`;
};

async function givenUser(service = api) {
  const email = uniqueEmail();
  const res = await service
    .http()
    .post("/users/sign-up")
    .set("x-forwarded-for", uniqueAddress())
    .send({ email, password: PASSWORD });
  expect(res.status).toBe(201);
  return email;
}

describe("sign-up rate limit", () => {
  it("when an address has used its sign-ups, then 429 with Retry-After and no account; another address may sign up", async () => {
    const address = uniqueAddress();
    const signUp = (email: string, from = address) =>
      api.http().post("/users/sign-up").set("x-forwarded-for", from).send({ email, password: PASSWORD });

    const allowed = [];
    for (let i = 0; i < 3; i++) allowed.push((await signUp(uniqueEmail())).status);
    const refusedEmail = uniqueEmail();
    const refused = await signUp(refusedEmail);
    const elsewhere = await signUp(uniqueEmail(), uniqueAddress());

    expect(allowed).toEqual([201, 201, 201]);
    expect(refused.status).toBe(429);
    expect(refused.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(refused.body.code).toBe("TOO_MANY_REQUESTS");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(await ctx.prisma.user.count({ where: { email: refusedEmail } })).toBe(0);
    expect(elsewhere.status).toBe(201);
  });
});

const login = (email: string, password: string, address: string, service = api) =>
  service.http().post("/users/login").set("x-forwarded-for", address).send({ email, password });

describe("login rate limit", () => {
  it("when an email has used its attempts, then 429 with Retry-After from any address, even with the right password", async () => {
    const email = await givenUser();
    const other = await givenUser();

    const failures = [];
    for (let i = 0; i < 3; i++) failures.push(await login(email, "wrong password", uniqueAddress()));
    const blocked = await login(email, PASSWORD, uniqueAddress());
    const otherEmail = await login(other, PASSWORD, uniqueAddress());

    expect(failures.map((res) => res.status)).toEqual([401, 401, 401]);
    expect(blocked.status).toBe(429);
    expect(blocked.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(blocked.body.code).toBe("TOO_MANY_REQUESTS");
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(Number(blocked.headers["retry-after"])).toBeLessThanOrEqual(60);
    expect(otherEmail.status).toBe(200);
  });

  it("when the right password is given, then the email's count starts again", async () => {
    const email = await givenUser();

    const statuses = [];
    for (const password of ["wrong 1", "wrong 2", PASSWORD, "wrong 3", "wrong 4", PASSWORD]) {
      statuses.push((await login(email, password, uniqueAddress())).status);
    }

    expect(statuses).toEqual([401, 401, 200, 401, 401, 200]);
  });

  it("when an unknown email is tried, then it is limited like a real one", async () => {
    const email = uniqueEmail("nobody");

    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await login(email, PASSWORD, uniqueAddress())).status);

    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it("when one address tries many emails, then that address gets 429 and another address does not", async () => {
    const address = uniqueAddress();
    const email = await givenUser();

    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await login(uniqueEmail(), PASSWORD, address)).status);
    const blocked = await login(email, PASSWORD, address);
    const elsewhere = await login(email, PASSWORD, uniqueAddress());

    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    expect(blocked.status).toBe(429);
    expect(blocked.headers["retry-after"]).toMatch(/^[1-9][0-9]*$/);
    expect(elsewhere.status).toBe(200);
  });

  it("when attempts are spread over two replicas, then the limit holds across them", async () => {
    const replica = await ctx.start(LIMITS);
    const email = await givenUser();

    const statuses = [];
    for (const service of [api, replica, api, replica]) {
      statuses.push((await login(email, "wrong password", uniqueAddress(), service)).status);
    }

    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it("when many attempts arrive at once, then no more than the limit get through to the password check", async () => {
    const email = await givenUser();

    const results = await Promise.all(
      Array.from({ length: 10 }, () => login(email, "wrong password", uniqueAddress())),
    );

    expect(results.filter((res) => res.status === 401)).toHaveLength(3);
    expect(results.filter((res) => res.status === 429)).toHaveLength(7);
  });

  it("when no proxy is trusted, then a forged X-Forwarded-For does not escape the address limit", async () => {
    const direct = await ctx.start({ ...LIMITS, TRUST_PROXY: "false" });

    const statuses = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await login(uniqueEmail(), PASSWORD, uniqueAddress(), direct)).status);
    }

    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it("when the window has passed, then the email may try again", async () => {
    const shortWindow = await ctx.start({ ...LIMITS, LOGIN_EMAIL_WINDOW_SEC: "1" });
    const email = await givenUser();
    for (let i = 0; i < 3; i++) await login(email, "wrong password", uniqueAddress(), shortWindow);
    const blocked = await login(email, PASSWORD, uniqueAddress(), shortWindow);
    expect(blocked.status).toBe(429);
    expect(blocked.headers["retry-after"]).toBe("1");

    await sleep(1100);

    expect((await login(email, PASSWORD, uniqueAddress(), shortWindow)).status).toBe(200);
  });
});

describe("login metrics", () => {
  it("when logins succeed, fail and are limited, then /metrics counts each outcome", async () => {
    const fresh = await ctx.start(LIMITS);
    const email = await givenUser(fresh);

    await login(email, PASSWORD, uniqueAddress(), fresh);
    for (let i = 0; i < 4; i++) await login(email, "wrong password", uniqueAddress(), fresh);
    const metrics = (await fresh.http().get("/metrics")).text;

    expect(metrics).toContain('user_login_attempts_total{outcome="success"} 1');
    expect(metrics).toContain('user_login_attempts_total{outcome="invalid_credentials"} 3');
    expect(metrics).toContain('user_login_attempts_total{outcome="rate_limited"} 1');
  });
});
