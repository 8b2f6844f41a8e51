import { createHmac, createPublicKey, sign } from "node:crypto";
import { createHttpApp } from "@coupon/http";
import { createLogger } from "@coupon/logging";
import { Registry } from "prom-client";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authenticate,
  createJwtVerifier,
  createRemoteJwks,
  type JwtVerifier,
  principalOf,
  requireRole,
} from "../src/index.ts";
import { generateSigningKey, startTestTokenIssuer, type TestTokenIssuer } from "../src/testing.ts";

let issuer: TestTokenIssuer;
let verifier: JwtVerifier;

beforeAll(async () => {
  issuer = await startTestTokenIssuer();
  verifier = createJwtVerifier({
    keys: createRemoteJwks({ url: issuer.jwksUrl }),
    issuer: issuer.issuer,
    audience: issuer.audience,
  });
});
afterAll(() => issuer.close());

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function claims(overrides: Record<string, unknown> = {}) {
  const iat = Math.floor(Date.now() / 1000);
  return {
    sub: "42",
    role: "user",
    iss: issuer.issuer,
    aud: issuer.audience,
    iat,
    exp: iat + 600,
    ...overrides,
  };
}

async function rejection(token: string): Promise<{ status: number; code: string }> {
  try {
    await verifier.verify(token);
  } catch (error) {
    const { status, code } = error as { status: number; code: string };
    return { status, code };
  }
  throw new Error("the token was accepted");
}

describe("createJwtVerifier", () => {
  it("when the token is valid, then the principal comes from its claims", async () => {
    expect(await verifier.verify(issuer.token({ sub: "42" }))).toEqual({ userId: "42", role: "user" });
    expect(await verifier.verify(issuer.token({ sub: "7", role: "admin" }))).toEqual({
      userId: "7",
      role: "admin",
    });
  });

  it('when alg is "none" and the signature empty, then INVALID_TOKEN', async () => {
    const token = `${b64({ alg: "none", typ: "JWT", kid: issuer.activeKey().jwk.kid })}.${b64(claims())}.`;
    expect(await rejection(token)).toEqual({ status: 401, code: "INVALID_TOKEN" });
  });

  it("when the token is HS256-signed with the public key as the secret, then INVALID_TOKEN", async () => {
    const publicPem = createPublicKey(issuer.activeKey().privateKey).export({ type: "spki", format: "pem" });
    const header = b64({ alg: "HS256", typ: "JWT", kid: issuer.activeKey().jwk.kid });
    const input = `${header}.${b64(claims({ role: "admin" }))}`;
    for (const secret of [String(publicPem), JSON.stringify(issuer.activeKey().jwk)]) {
      const signature = createHmac("sha256", secret).update(input).digest("base64url");
      expect(await rejection(`${input}.${signature}`)).toEqual({ status: 401, code: "INVALID_TOKEN" });
    }
  });

  it("when the payload is tampered with, then INVALID_TOKEN", async () => {
    const [header, , signature] = issuer.token({ sub: "42" }).split(".");
    const forged = `${header}.${b64(claims({ sub: "1", role: "admin" }))}.${signature}`;
    expect(await rejection(forged)).toEqual({ status: 401, code: "INVALID_TOKEN" });
  });

  it("when signed by a key that is not published, then INVALID_TOKEN, whatever kid it claims", async () => {
    const attacker = generateSigningKey();
    expect(await rejection(issuer.token({ sub: "42", key: attacker }))).toMatchObject({
      code: "INVALID_TOKEN",
    });
    const posing = { ...attacker, jwk: { ...attacker.jwk, kid: issuer.activeKey().jwk.kid } };
    expect(await rejection(issuer.token({ sub: "42", key: posing }))).toMatchObject({
      code: "INVALID_TOKEN",
    });
  });

  it("when the token has expired, then EXPIRED_TOKEN; within the clock skew it still passes", async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = issuer.token({ sub: "42", claims: { iat: now - 3600, exp: now - 60 } });
    expect(await rejection(expired)).toEqual({ status: 401, code: "EXPIRED_TOKEN" });
    const justNow = issuer.token({ sub: "42", claims: { iat: now - 3600, exp: now - 2 } });
    expect(await verifier.verify(justNow)).toMatchObject({ userId: "42" });
  });

  it("when issuer, audience, subject, role or times are wrong, then INVALID_TOKEN", async () => {
    const now = Math.floor(Date.now() / 1000);
    const bad = [
      { iss: "someone-else" },
      { aud: "another-api" },
      { aud: ["another-api"] },
      { sub: "not-a-number" },
      { sub: "0" },
      { sub: "9223372036854775808" },
      { sub: 42 },
      { role: "root" },
      { iat: now + 3600 },
      { nbf: now + 3600 },
    ];
    for (const overrides of bad) {
      expect(
        await rejection(issuer.token({ sub: "42", claims: overrides })),
        JSON.stringify(overrides),
      ).toEqual({
        status: 401,
        code: "INVALID_TOKEN",
      });
    }
    expect(
      await verifier.verify(issuer.token({ sub: "42", claims: { aud: ["x", issuer.audience] } })),
    ).toEqual({
      userId: "42",
      role: "user",
    });
  });

  it("when exp, iat or nbf is missing or not a number, then INVALID_TOKEN", async () => {
    // Signed with the published key by hand: jsonwebtoken refuses to sign such claims.
    const key = issuer.activeKey();
    const header = b64({ alg: "RS256", typ: "JWT", kid: key.jwk.kid });
    const signed = (payload: object) => {
      const input = `${header}.${b64(payload)}`;
      return `${input}.${sign("RSA-SHA256", Buffer.from(input), key.privateKey).toString("base64url")}`;
    };
    expect(await verifier.verify(signed(claims()))).toEqual({ userId: "42", role: "user" });

    const { exp: _exp, ...noExpiry } = claims();
    const { iat: _iat, ...noIssueTime } = claims();
    for (const payload of [
      noExpiry,
      noIssueTime,
      claims({ exp: "tomorrow" }),
      claims({ iat: "today" }),
      claims({ nbf: "soon" }),
    ]) {
      expect(await rejection(signed(payload)), JSON.stringify(payload)).toEqual({
        status: 401,
        code: "INVALID_TOKEN",
      });
    }
  });

  it("when the token is not a JWT at all, then INVALID_TOKEN", async () => {
    for (const token of ["abc", "a.b.c", "a.b", `${b64([1])}.${b64(claims())}.sig`, "ü.ü.ü"]) {
      expect(await rejection(token)).toEqual({ status: 401, code: "INVALID_TOKEN" });
    }
  });
});

describe("createRemoteJwks", () => {
  it("when the issuer rotates its key, then new tokens verify after one refetch and old ones still do", async () => {
    const rotating = await startTestTokenIssuer();
    try {
      const keys = createRemoteJwks({ url: rotating.jwksUrl, minRefreshIntervalMs: 0 });
      const v = createJwtVerifier({ keys, issuer: rotating.issuer, audience: rotating.audience });
      const before = rotating.token({ sub: "1" });
      await v.verify(before);
      expect(rotating.jwksRequests()).toBe(1);

      rotating.rotate();
      const after = rotating.token({ sub: "2" });
      expect(await v.verify(after)).toMatchObject({ userId: "2" });
      expect(await v.verify(before)).toMatchObject({ userId: "1" });
      expect(rotating.jwksRequests()).toBe(2);
    } finally {
      await rotating.close();
    }
  });

  it("when many tokens name unknown keys, then the JWKS is refetched at most once per interval", async () => {
    const target = await startTestTokenIssuer();
    try {
      const keys = createRemoteJwks({ url: target.jwksUrl, minRefreshIntervalMs: 60_000 });
      const v = createJwtVerifier({ keys, issuer: target.issuer, audience: target.audience });
      await v.verify(target.token({ sub: "1" }));
      const forged = Array.from({ length: 10 }, () => target.token({ sub: "1", key: generateSigningKey() }));
      const results = await Promise.allSettled(forged.map((t) => v.verify(t)));
      expect(results.every((r) => r.status === "rejected")).toBe(true);
      expect(target.jwksRequests()).toBe(1);
    } finally {
      await target.close();
    }
  });

  it("when tokens of another algorithm name unknown keys, then they are refused without a JWKS fetch", async () => {
    const target = await startTestTokenIssuer();
    try {
      const keys = createRemoteJwks({ url: target.jwksUrl, minRefreshIntervalMs: 0 });
      const v = createJwtVerifier({ keys, issuer: target.issuer, audience: target.audience });
      await v.verify(target.token({ sub: "1" }));
      const body = b64(claims({ iss: target.issuer, aud: target.audience }));
      const forged = ["none", "HS256", "RS512", "PS256"].map(
        (alg, i) =>
          `${b64({ alg, typ: "JWT", kid: `unknown-${i}` })}.${body}.${alg === "none" ? "" : "c2ln"}`,
      );
      for (const token of forged) {
        await expect(v.verify(token)).rejects.toMatchObject({ status: 401, code: "INVALID_TOKEN" });
      }
      expect(target.jwksRequests()).toBe(1);
      // The same kids under RS256 do make it look again (minRefreshIntervalMs is 0).
      await expect(
        v.verify(`${b64({ alg: "RS256", typ: "JWT", kid: "unknown-0" })}.${body}.c2ln`),
      ).rejects.toMatchObject({
        code: "INVALID_TOKEN",
      });
      expect(target.jwksRequests()).toBe(2);
    } finally {
      await target.close();
    }
  });

  it("when the JWKS cannot be fetched, then 503 AUTH_UNAVAILABLE rather than a false 401", async () => {
    const gone = await startTestTokenIssuer();
    const token = gone.token({ sub: "1" });
    const url = gone.jwksUrl;
    await gone.close();
    const v = createJwtVerifier({
      keys: createRemoteJwks({ url, timeoutMs: 500 }),
      issuer: gone.issuer,
      audience: gone.audience,
    });
    await expect(v.verify(token)).rejects.toMatchObject({ status: 503, code: "AUTH_UNAVAILABLE" });
  });
});

describe("authenticate middleware", () => {
  function app() {
    return createHttpApp({
      service: "test",
      logger: createLogger({ service: "test", level: "silent" }),
      registry: new Registry(),
      routes: (a) => {
        a.get("/me", authenticate(verifier), (req, res) => {
          res.json(principalOf(req));
        });
        a.post("/admin", authenticate(verifier), requireRole("admin"), (_req, res) => {
          res.status(204).end();
        });
      },
    });
  }

  it("when no bearer token is sent, then 401 NOT_TOKEN", async () => {
    for (const header of [undefined, "Basic dXNlcjpwYXNz", "Bearer", "Bearer "]) {
      const req = request(app()).get("/me");
      const res = header === undefined ? await req : await req.set("authorization", header);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe("NOT_TOKEN");
      expect(res.headers["www-authenticate"]).toMatch(/^Bearer/);
    }
  });

  it("when X-User-Id names another user, then it is ignored: the token decides who acts", async () => {
    const res = await request(app())
      .get("/me")
      .set("authorization", `Bearer ${issuer.token({ sub: "42" })}`)
      .set("x-user-id", "1");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ userId: "42", role: "user" });
    const none = await request(app()).get("/me").set("x-user-id", "1");
    expect(none.status).toBe(401);
  });

  it("when a user calls an admin route, then 403; an admin gets through", async () => {
    const asUser = await request(app())
      .post("/admin")
      .set("authorization", `Bearer ${issuer.token({ sub: "5" })}`);
    expect(asUser.status).toBe(403);
    expect(asUser.body.code).toBe("ACCESS_DENIED");
    const asAdmin = await request(app())
      .post("/admin")
      .set("authorization", `Bearer ${issuer.token({ sub: "1", role: "admin" })}`);
    expect(asAdmin.status).toBe(204);
  });

  it("when the token is expired, then 401 EXPIRED_TOKEN as problem+json", async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await request(app())
      .get("/me")
      .set(
        "authorization",
        `Bearer ${issuer.token({ sub: "42", claims: { iat: now - 100, exp: now - 50 } })}`,
      );
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe("EXPIRED_TOKEN");
  });
});
