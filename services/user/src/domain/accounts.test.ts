// The account rules with in-memory stand-ins for the adapters: what work each path does, which the
// component tests (real argon2, MariaDB, Redis) cannot observe.
import { describe, expect, it } from "vitest";
import {
  type AccountRateLimiter,
  createAccountService,
  ensureAdmin,
  type PasswordHasher,
  type User,
  type UserRepository,
} from "./accounts.ts";

function inMemoryUsers(): UserRepository & { rows: User[] } {
  const rows: User[] = [];
  return {
    rows,
    async create({ email, passwordHash, role }) {
      if (rows.some((row) => row.email === email)) return undefined;
      const user = { id: BigInt(rows.length + 1), email, passwordHash, role, createdAt: new Date() };
      rows.push(user);
      return user;
    },
    findByEmail: async (email) => rows.find((row) => row.email === email),
    findById: async (id) => rows.find((row) => row.id === id),
    async update(id, changes) {
      const row = rows.find((r) => r.id === id);
      if (row) Object.assign(row, changes);
    },
  };
}

/** Hashes are "v<version>:<password>"; counts the calls, which stand for argon2's cost. */
function countingHasher(version = 1): PasswordHasher & { hashes: number; verifications: number } {
  const hasher = {
    hashes: 0,
    verifications: 0,
    async hash(password: string) {
      hasher.hashes++;
      return `v${version}:${password}`;
    },
    async verify(hash: string, password: string) {
      hasher.verifications++;
      return hash.slice(hash.indexOf(":") + 1) === password;
    },
    needsRehash: (hash: string) => !hash.startsWith(`v${version}:`),
  };
  return hasher;
}

const allowAll: AccountRateLimiter = {
  attempt: async () => ({ allowed: true }),
  signUp: async () => ({ allowed: true }),
  reset: async () => {},
};
const tokens = { issue: (user: Pick<User, "id">) => ({ accessToken: `token-${user.id}`, expiresInSec: 60 }) };

describe("sign-up", () => {
  it("when the limiter refuses, then nothing is hashed and no account is made", async () => {
    const users = inMemoryUsers();
    const hasher = countingHasher();
    const service = createAccountService({
      users,
      hasher,
      tokens,
      rateLimiter: { ...allowAll, signUp: async () => ({ allowed: false, retryAfterSec: 7 }) },
    });

    const hashesBefore = hasher.hashes;

    const result = await service.signUp({ email: "a@example.com", password: "password" }, "203.0.113.1");

    expect(result).toEqual({ ok: false, reason: "TOO_MANY_REQUESTS", retryAfterSec: 7 });
    expect(hasher.hashes).toBe(hashesBefore);
    expect(users.rows).toHaveLength(0);
  });
});

describe("login", () => {
  it("when the limiter refuses, then no user is looked up and no password verified", async () => {
    const users = inMemoryUsers();
    const hasher = countingHasher();
    const lookups: string[] = [];
    const service = createAccountService({
      users: {
        ...users,
        findByEmail: async (email) => {
          lookups.push(email);
          return undefined;
        },
      },
      hasher,
      tokens,
      rateLimiter: { ...allowAll, attempt: async () => ({ allowed: false, retryAfterSec: 42 }) },
    });

    const result = await service.login({ email: "a@example.com", password: "password" }, "203.0.113.1");

    expect(result).toEqual({ ok: false, reason: "TOO_MANY_REQUESTS", retryAfterSec: 42 });
    expect(lookups).toEqual([]);
    expect(hasher.verifications).toBe(0);
  });

  it("when the email is unknown, then a password is still verified, as for a wrong one", async () => {
    const hasher = countingHasher();
    const service = createAccountService({ users: inMemoryUsers(), hasher, tokens, rateLimiter: allowAll });

    const result = await service.login({ email: "nobody@example.com", password: "password" }, "::1");

    expect(result).toEqual({ ok: false, reason: "INVALID_CREDENTIALS" });
    expect(hasher.verifications).toBe(1);
  });

  it("when the password is the dummy hash's own, then an unknown email is still refused", async () => {
    const service = createAccountService({
      users: inMemoryUsers(),
      hasher: countingHasher(),
      tokens,
      rateLimiter: allowAll,
    });

    const result = await service.login(
      { email: "nobody@example.com", password: "no account has this password" },
      "::1",
    );

    expect(result).toEqual({ ok: false, reason: "INVALID_CREDENTIALS" });
  });

  it("when the password is right, then the email's count is reset and an outdated hash replaced", async () => {
    const users = inMemoryUsers();
    await users.create({ email: "a@example.com", passwordHash: "v0:password", role: "user" });
    const resets: string[] = [];
    const service = createAccountService({
      users,
      hasher: countingHasher(1),
      tokens,
      rateLimiter: { ...allowAll, reset: async (email) => void resets.push(email) },
    });

    const result = await service.login({ email: "a@example.com", password: "password" }, "::1");

    expect(result).toMatchObject({ ok: true, token: { accessToken: "token-1" } });
    expect(resets).toEqual(["a@example.com"]);
    expect(users.rows[0]?.passwordHash).toBe("v1:password");
  });
});

describe("ensureAdmin", () => {
  it("when another run creates the account between lookup and insert, then it converges on that account", async () => {
    const users = inMemoryUsers();
    const racing: UserRepository = {
      ...users,
      async create(user) {
        await users.create({ ...user, role: "user", passwordHash: "v1:someone else's" });
        return users.create(user);
      },
    };

    const result = await ensureAdmin(
      { users: racing, hasher: countingHasher() },
      { email: "admin@example.com", password: "admin password" },
    );

    expect(result).toMatchObject({ created: false, promoted: true, passwordChanged: true });
    expect(users.rows).toHaveLength(1);
    expect(users.rows[0]).toMatchObject({ role: "admin", passwordHash: "v1:admin password" });
  });
});
