// The admin command as the local up command and a Kubernetes Job run it: a process with an
// environment, against a real database.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import {
  FAST_ARGON2,
  type RunningUserService,
  tokenParts,
  uniqueEmail,
  useUserServiceTestContext,
} from "./support.ts";

const ctx = useUserServiceTestContext("user_create_admin");
const PASSWORD = "admin password 1";
let api: RunningUserService;

beforeAll(async () => {
  api = await ctx.start();
});

interface CommandResult {
  code: number;
  stderr: string;
  log: Record<string, unknown> | undefined;
}

async function createAdmin(env: Record<string, string>): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [resolve(import.meta.dirname, "../src/commands/create-admin.ts")],
      { env: { PATH: process.env.PATH ?? "", DATABASE_URL: ctx.db.url, ...FAST_ARGON2, ...env } },
    );
    const line = stdout.split("\n").find((l) => l.includes('"admin account ready"'));
    return { code: 0, stderr, log: line ? JSON.parse(line) : undefined };
  } catch (error) {
    const { code, stderr } = error as { code: number; stderr: string };
    return { code, stderr, log: undefined };
  }
}

async function login(email: string, password: string) {
  return api.http().post("/users/login").send({ email, password });
}

describe("create-admin command", () => {
  it("when the account does not exist, then it is created as an admin whose token opens admin routes", async () => {
    const email = uniqueEmail("admin");

    const result = await createAdmin({ ADMIN_EMAIL: ` ${email.toUpperCase()} `, ADMIN_PASSWORD: PASSWORD });

    expect(result.code, result.stderr).toBe(0);
    expect(result.log).toMatchObject({ email, created: true, promoted: false, password_changed: false });
    const res = await login(email, PASSWORD);
    expect(res.status).toBe(200);
    const { claims } = tokenParts(res.body.token.accessToken);
    expect(claims).toMatchObject({ sub: result.log?.user_id, role: "admin" });
    const adminRoute = await api
      .http()
      .get(`/users/${claims.sub}`)
      .set("authorization", `Bearer ${res.body.token.accessToken}`);
    expect(adminRoute.status).toBe(200);
  });

  it("when it runs again with the same values, then nothing changes", async () => {
    const email = uniqueEmail("admin");
    await createAdmin({ ADMIN_EMAIL: email, ADMIN_PASSWORD: PASSWORD });
    const before = await ctx.prisma.user.findUniqueOrThrow({ where: { email } });

    const again = await createAdmin({ ADMIN_EMAIL: email, ADMIN_PASSWORD: PASSWORD });

    expect(again.code, again.stderr).toBe(0);
    expect(again.log).toMatchObject({ created: false, promoted: false, password_changed: false });
    expect(await ctx.prisma.user.findUniqueOrThrow({ where: { email } })).toEqual(before);
    expect(await ctx.prisma.user.count({ where: { email } })).toBe(1);
  });

  it("when the email belongs to a user, then the user is promoted and takes the given password", async () => {
    const email = uniqueEmail("promoted");
    const signUp = await api.http().post("/users/sign-up").send({ email, password: "the user's own" });

    const result = await createAdmin({ ADMIN_EMAIL: email, ADMIN_PASSWORD: PASSWORD });

    expect(result.log).toMatchObject({ user_id: signUp.body.id, promoted: true, password_changed: true });
    expect((await login(email, "the user's own")).status).toBe(401);
    const res = await login(email, PASSWORD);
    expect(tokenParts(res.body.token.accessToken).claims).toMatchObject({
      sub: signUp.body.id,
      role: "admin",
    });
  });

  it("when the email or password is not acceptable, then it exits 1 naming the variable", async () => {
    const badEmail = await createAdmin({ ADMIN_EMAIL: "admin", ADMIN_PASSWORD: PASSWORD });
    const shortPassword = await createAdmin({ ADMIN_EMAIL: uniqueEmail(), ADMIN_PASSWORD: "short" });
    const missing = await createAdmin({});

    expect(badEmail.code).toBe(1);
    expect(badEmail.stderr).toContain("ADMIN_EMAIL: must be an email address");
    expect(shortPassword.code).toBe(1);
    expect(shortPassword.stderr).toContain("ADMIN_PASSWORD: must be at least 8 characters");
    expect(shortPassword.stderr).not.toContain("short");
    expect(missing.stderr).toMatch(/ADMIN_EMAIL: .*it is not set/);
    expect(missing.stderr).toMatch(/ADMIN_PASSWORD: .*it is not set/);
  });
});
