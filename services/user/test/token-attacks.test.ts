// Forged and broken tokens against the user service's own protected route and against a verifier
// that reads the service's JWKS over HTTP, as the other services do. Every one must be refused with
// 401 and the original code; none may act for the victim.
import { createHmac, createPublicKey, type KeyObject, sign } from "node:crypto";
import { createJwtVerifier, createRemoteJwks, type JwtVerifier, toPublicJwk } from "@coupon/auth";
import { beforeAll, describe, expect, it } from "vitest";
import { newRsaKey, type RunningUserService, uniqueEmail, useUserServiceTestContext } from "./support.ts";

const ctx = useUserServiceTestContext("user_token_attacks");
const PASSWORD = "correct horse battery";
let api: RunningUserService;
let remote: JwtVerifier;
let victim: { id: string };
let attackerToken: string;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const parts = (token: string) => token.split(".") as [string, string, string];
const headerOf = (token: string) => JSON.parse(Buffer.from(parts(token)[0], "base64url").toString());
const claimsOf = (token: string) => JSON.parse(Buffer.from(parts(token)[1], "base64url").toString());

function rs256(header: object, claims: object, key: KeyObject): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${sign("RSA-SHA256", Buffer.from(input), key).toString("base64url")}`;
}

async function signUpAndLogin(service: RunningUserService, email = uniqueEmail()) {
  const signUp = await service.http().post("/users/sign-up").send({ email, password: PASSWORD });
  const login = await service.http().post("/users/login").send({ email, password: PASSWORD });
  expect(login.status, JSON.stringify(login.body)).toBe(200);
  return { id: signUp.body.id as string, email, token: login.body.token.accessToken as string };
}

beforeAll(async () => {
  api = await ctx.start();
  remote = createJwtVerifier({
    keys: createRemoteJwks({ url: `${api.baseUrl}/.well-known/jwks.json` }),
    issuer: "coupon-user-service",
    audience: "coupon-platform",
  });
  victim = await signUpAndLogin(api, uniqueEmail("victim"));
  attackerToken = (await signUpAndLogin(api, uniqueEmail("attacker"))).token;
});

/** What the service's route and a JWKS-reading verifier both answer for the token. */
async function refusal(token: string) {
  const res = await api
    .http()
    .get("/users/me")
    .set("authorization", `Bearer ${token}`)
    .set("x-user-id", victim.id);
  let remoteCode: string | undefined;
  try {
    await remote.verify(token);
  } catch (error) {
    remoteCode = (error as { code: string }).code;
  }
  return {
    status: res.status,
    code: res.body.code,
    problem: /^application\/problem\+json/.test(String(res.headers["content-type"])),
    remoteCode,
  };
}

const refused = (code: string) => ({ status: 401, code, problem: true, remoteCode: code });

describe("token attacks on the user service", () => {
  it("when the attacker's own token is used, then it acts for the attacker, never for X-User-Id", async () => {
    const res = await api
      .http()
      .get("/users/me")
      .set("authorization", `Bearer ${attackerToken}`)
      .set("x-user-id", victim.id);

    expect(res.status).toBe(200);
    expect(res.body.id).not.toBe(victim.id);
    expect(res.body.id).toBe(claimsOf(attackerToken).sub);
  });

  it('when alg is "none" with no signature, then 401 INVALID_TOKEN', async () => {
    const header = { ...headerOf(attackerToken), alg: "none" };
    const forged = `${b64(header)}.${b64({ ...claimsOf(attackerToken), sub: victim.id, role: "admin" })}.`;

    expect(await refusal(forged)).toEqual(refused("INVALID_TOKEN"));
  });

  it("when HS256 is keyed with the service's public key, then 401 INVALID_TOKEN", async () => {
    const jwks = await api.http().get("/.well-known/jwks.json");
    const jwk = jwks.body.keys[0];
    const publicPem = createPublicKey({ key: jwk, format: "jwk" }).export({ type: "spki", format: "pem" });
    const input = `${b64({ alg: "HS256", typ: "JWT", kid: jwk.kid })}.${b64({
      ...claimsOf(attackerToken),
      sub: victim.id,
    })}`;

    for (const secret of [String(publicPem), JSON.stringify(jwk)]) {
      const forged = `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
      expect(await refusal(forged)).toEqual(refused("INVALID_TOKEN"));
    }
  });

  it("when the payload is changed to name the victim, then 401 INVALID_TOKEN", async () => {
    const [header, , signature] = parts(attackerToken);
    const forged = `${header}.${b64({ ...claimsOf(attackerToken), sub: victim.id })}.${signature}`;

    expect(await refusal(forged)).toEqual(refused("INVALID_TOKEN"));
  });

  it("when signed with a key the service does not publish, then 401 INVALID_TOKEN, whatever the header says", async () => {
    const attackerKey = newRsaKey();
    const claims = { ...claimsOf(attackerToken), sub: victim.id, role: "admin" };
    const ownKid = toPublicJwk(attackerKey);

    const posingAsServiceKey = rs256(headerOf(attackerToken), claims, attackerKey);
    const withOwnKid = rs256({ alg: "RS256", typ: "JWT", kid: ownKid.kid }, claims, attackerKey);
    const withEmbeddedJwk = rs256(
      { alg: "RS256", typ: "JWT", kid: ownKid.kid, jwk: ownKid, jku: "http://127.0.0.1:1/jwks.json" },
      claims,
      attackerKey,
    );

    for (const forged of [posingAsServiceKey, withOwnKid, withEmbeddedJwk]) {
      expect(await refusal(forged)).toEqual(refused("INVALID_TOKEN"));
    }
  });

  it("when the token has expired, then 401 EXPIRED_TOKEN", async () => {
    const anHourAgo = await ctx.start({}, () => Date.now() - 3_600_000);
    const { token } = await signUpAndLogin(anHourAgo);

    expect(claimsOf(token).exp).toBeLessThan(Date.now() / 1000);
    expect(await refusal(token)).toEqual(refused("EXPIRED_TOKEN"));
  });

  it("when the service's own key signed it for another issuer or audience, then 401 INVALID_TOKEN", async () => {
    const otherAudience = await ctx.start({ JWT_AUDIENCE: "another-platform" });
    const otherIssuer = await ctx.start({ JWT_ISSUER: "someone-else" });

    for (const service of [otherAudience, otherIssuer]) {
      const { token } = await signUpAndLogin(service);
      expect(headerOf(token).kid).toBe(headerOf(attackerToken).kid);
      expect(await refusal(token)).toEqual(refused("INVALID_TOKEN"));
    }
  });

  it("when the token is garbage or missing, then 401 INVALID_TOKEN or NOT_TOKEN", async () => {
    expect(await refusal("not.a.jwt")).toEqual(refused("INVALID_TOKEN"));
    const missing = await api.http().get("/users/me").set("x-user-id", victim.id);
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe("NOT_TOKEN");
  });
});
