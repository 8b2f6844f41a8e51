import { createJwtVerifier, createRemoteJwks } from "@coupon/auth";
import argon2 from "argon2";
import { beforeAll, describe, expect, it } from "vitest";
import { type RunningUserService, tokenParts, uniqueEmail, useUserServiceTestContext } from "./support.ts";

const ctx = useUserServiceTestContext("user_accounts");
let api: RunningUserService;
const PASSWORD = "correct horse battery";

beforeAll(async () => {
  api = await ctx.start();
});

const signUp = (body: unknown) =>
  api
    .http()
    .post("/users/sign-up")
    .send(body as object);
const login = (email: string, password: string) => api.http().post("/users/login").send({ email, password });

async function givenUser(email = uniqueEmail(), password = PASSWORD) {
  const res = await signUp({ email, password });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id as string, email, password };
}

async function tokenOf(email: string, password = PASSWORD): Promise<string> {
  const res = await login(email, password);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.token.accessToken;
}

describe("POST /users/sign-up", () => {
  it("when the email is new, then 201 with the id and normalised email, and only an argon2id hash is stored", async () => {
    const email = uniqueEmail("Alice");

    const res = await signUp({ email: `  ${email.toUpperCase()} `, password: PASSWORD });

    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.stringMatching(/^[1-9][0-9]*$/), email: email.toLowerCase() });
    expect(res.headers.location).toBe(`/users/${res.body.id}`);
    const row = await ctx.prisma.user.findUniqueOrThrow({ where: { id: BigInt(res.body.id) } });
    expect(row.email).toBe(email.toLowerCase());
    expect(row.role).toBe("USER");
    expect(row.passwordHash).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);
    expect(await argon2.verify(row.passwordHash, PASSWORD)).toBe(true);
  });

  it("when the email is taken, in any case or with spaces, then 409 EMAIL_ALREADY_EXISTS", async () => {
    const { email } = await givenUser();

    for (const again of [email, ` ${email.toUpperCase()}`]) {
      const res = await signUp({ email: again, password: "another password" });
      expect(res.status).toBe(409);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe("EMAIL_ALREADY_EXISTS");
    }
    expect(await ctx.prisma.user.count({ where: { email } })).toBe(1);
  });

  it("when the same email signs up several times at once, then exactly one gets 201", async () => {
    const email = uniqueEmail();

    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => signUp({ email, password: `${PASSWORD} ${i}` })),
    );

    expect(results.map((res) => res.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    expect(await ctx.prisma.user.count({ where: { email } })).toBe(1);
  });

  it("when a field is missing or invalid, then 400 problem+json naming each bad field", async () => {
    const email = uniqueEmail();
    const cases: [unknown, string[]][] = [
      [{}, ["email", "password"]],
      [{ email: "not-an-email", password: PASSWORD }, ["email"]],
      [{ email: `${"a".repeat(250)}@example.com`, password: PASSWORD }, ["email"]],
      [{ email: 42, password: PASSWORD }, ["email"]],
      [{ email, password: "seven77" }, ["password"]],
      [{ email, password: "x".repeat(129) }, ["password"]],
      [{ email, password: 12345678 }, ["password"]],
      [[email, PASSWORD], ["body"]],
    ];
    for (const [body, fields] of cases) {
      const res = await signUp(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe("VALIDATION_FAILED");
      expect(res.body.errors.map((e: { field: string }) => e.field).sort(), JSON.stringify(body)).toEqual(
        fields,
      );
    }
    expect(await ctx.prisma.user.count({ where: { email } })).toBe(0);
  });

  it("when the password is exactly 8 or 128 characters, then it is accepted", async () => {
    for (const password of ["8chars!!", "p".repeat(128)]) {
      const { email } = await givenUser(uniqueEmail(), password);
      expect(typeof (await tokenOf(email, password))).toBe("string");
    }
  });
});

describe("POST /users/login", () => {
  it("when the password is right, then 200 with an RS256 Bearer token for the user from the published key", async () => {
    const user = await givenUser();

    const res = await login(user.email, PASSWORD);

    expect(res.status).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.body).toEqual({
      token: { grantType: "Bearer", accessToken: expect.any(String), expiresIn: 1800 },
    });
    const { header, claims } = tokenParts(res.body.token.accessToken);
    const jwks = await api.http().get("/.well-known/jwks.json");
    expect(header).toEqual({ alg: "RS256", typ: "JWT", kid: jwks.body.keys[0].kid });
    expect(claims).toEqual({
      sub: user.id,
      role: "user",
      iss: "coupon-user-service",
      aud: "coupon-platform",
      iat: expect.any(Number),
      exp: (claims.iat as number) + 1800,
    });
    expect(Math.abs((claims.iat as number) - Date.now() / 1000)).toBeLessThan(60);
  });

  it("when the password is wrong or the email unknown, then the same 401 INVALID_CREDENTIALS", async () => {
    const user = await givenUser();

    const wrong = await login(user.email, `${PASSWORD}!`);
    const unknown = await login(uniqueEmail("nobody"), PASSWORD);
    const tooShort = await login(user.email, "x");

    for (const res of [wrong, unknown, tooShort]) {
      expect(res.status).toBe(401);
      expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(res.body).toEqual(wrong.body);
    }
    expect(wrong.body).toMatchObject({ code: "INVALID_CREDENTIALS", status: 401 });
    expect(JSON.stringify(wrong.body)).not.toContain(user.email);
  });

  it("when the email differs in case or spaces, then it logs in to the same account", async () => {
    const user = await givenUser();

    const token = await tokenOf(` ${user.email.toUpperCase()}  `);

    expect(tokenParts(token).claims.sub).toBe(user.id);
  });

  it("when the password is typed in another Unicode form, then it still matches", async () => {
    const composed = "caf\u00e9 au lait";
    const decomposed = "cafe\u0301 au lait";
    const user = await givenUser(uniqueEmail(), composed);

    expect(tokenParts(await tokenOf(user.email, decomposed)).claims.sub).toBe(user.id);
  });

  it("when the body is not valid, then 400 naming the field", async () => {
    const res = await api.http().post("/users/login").send({ email: "nope" });

    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(["email", "password"]);
  });

  it("when the stored hash was made with other parameters, then login rehashes it with the current ones", async () => {
    const email = uniqueEmail();
    const old = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 2048, timeCost: 2 });
    const row = await ctx.prisma.user.create({ data: { email, passwordHash: old } });

    await tokenOf(email);

    const after = await ctx.prisma.user.findUniqueOrThrow({ where: { id: row.id } });
    expect(after.passwordHash).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);
    expect(await tokenOf(email)).toEqual(expect.any(String));
  });
});

describe("tokens in use", () => {
  it("when another service verifies the token through the JWKS, then it gets the user id and role", async () => {
    const user = await givenUser();
    const verifier = createJwtVerifier({
      keys: createRemoteJwks({ url: `${api.baseUrl}/.well-known/jwks.json` }),
      issuer: "coupon-user-service",
      audience: "coupon-platform",
    });

    expect(await verifier.verify(await tokenOf(user.email))).toEqual({ userId: user.id, role: "user" });
  });

  it("when the JWKS is fetched, then it lists the public key only, cacheable", async () => {
    const res = await api.http().get("/.well-known/jwks.json");

    expect(res.status).toBe(200);
    expect(res.headers["cache-control"]).toBe("public, max-age=300");
    expect(res.body.keys).toHaveLength(1);
    expect(Object.keys(res.body.keys[0]).sort()).toEqual(["alg", "e", "kid", "kty", "n", "use"]);
  });

  it("when X-User-Id names another user, then /users/me still answers for the token's user", async () => {
    const alice = await givenUser(uniqueEmail("alice"));
    const bob = await givenUser(uniqueEmail("bob"));

    const res = await api
      .http()
      .get("/users/me")
      .set("authorization", `Bearer ${await tokenOf(alice.email)}`)
      .set("x-user-id", bob.id);

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: alice.id, email: alice.email, role: "user" });
    const anonymous = await api.http().get("/users/me").set("x-user-id", bob.id);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe("NOT_TOKEN");
  });

  it("when a user calls the admin route, then 403 even claiming an admin's id; an admin gets through", async () => {
    const admin = await givenUser(uniqueEmail("admin"));
    await ctx.prisma.user.update({ where: { id: BigInt(admin.id) }, data: { role: "ADMIN" } });
    const user = await givenUser();
    const userToken = await tokenOf(user.email);
    const adminToken = await tokenOf(admin.email);

    const asUser = await api
      .http()
      .get(`/users/${admin.id}`)
      .set("authorization", `Bearer ${userToken}`)
      .set("x-user-id", admin.id);
    const asAdmin = await api.http().get(`/users/${user.id}`).set("authorization", `Bearer ${adminToken}`);

    expect(asUser.status).toBe(403);
    expect(asUser.body.code).toBe("ACCESS_DENIED");
    expect(tokenParts(adminToken).claims.role).toBe("admin");
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.body).toEqual({
      id: user.id,
      email: user.email,
      role: "user",
      createdAt: expect.any(String),
    });
  });

  it("when an admin asks for an unknown or malformed id, then 404 USER_NOT_FOUND or 400", async () => {
    const admin = await givenUser(uniqueEmail("admin"));
    await ctx.prisma.user.update({ where: { id: BigInt(admin.id) }, data: { role: "ADMIN" } });
    const bearer = `Bearer ${await tokenOf(admin.email)}`;

    const unknown = await api.http().get("/users/999999999").set("authorization", bearer);
    const malformed = await api.http().get("/users/abc").set("authorization", bearer);
    const tooLarge = await api.http().get("/users/9999999999999999999").set("authorization", bearer);

    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("USER_NOT_FOUND");
    for (const res of [malformed, tooLarge]) {
      expect(res.status).toBe(400);
      expect(res.body.errors[0].field).toBe("userId");
    }
  });
});
