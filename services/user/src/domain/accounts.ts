import type { Role } from "@coupon/auth";
import type { Credentials } from "./credentials.ts";

export interface User {
  id: bigint;
  email: string;
  role: Role;
  passwordHash: string;
  createdAt: Date;
}

export interface UserRepository {
  /** Undefined when the email is already taken. */
  create(user: Pick<User, "email" | "passwordHash" | "role">): Promise<User | undefined>;
  findByEmail(email: string): Promise<User | undefined>;
  findById(id: bigint): Promise<User | undefined>;
  update(id: bigint, changes: Partial<Pick<User, "passwordHash" | "role">>): Promise<void>;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** True when the hash was made with other parameters than the current ones. */
  needsRehash(hash: string): boolean;
}

export interface AccessToken {
  accessToken: string;
  expiresInSec: number;
}

export interface AccessTokenIssuer {
  issue(user: Pick<User, "id" | "role">): AccessToken;
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterSec: number };

export interface AccountRateLimiter {
  /** Counts one login attempt for the email and one for the client address, whatever its outcome. */
  attempt(email: string, address: string): Promise<RateLimitDecision>;
  /** Counts one sign-up from the client address: each costs an argon2 hash, like a login. */
  signUp(address: string): Promise<RateLimitDecision>;
  /** Clears the email's count once its password has been given correctly. */
  reset(email: string): Promise<void>;
}

export type SignUpResult =
  | { ok: true; user: User }
  | { ok: false; reason: "EMAIL_ALREADY_EXISTS" }
  | { ok: false; reason: "TOO_MANY_REQUESTS"; retryAfterSec: number };

export type LoginResult =
  | { ok: true; user: User; token: AccessToken }
  | { ok: false; reason: "INVALID_CREDENTIALS" }
  | { ok: false; reason: "TOO_MANY_REQUESTS"; retryAfterSec: number };

export interface AccountService {
  signUp(credentials: Credentials, clientAddress: string): Promise<SignUpResult>;
  login(credentials: Credentials, clientAddress: string): Promise<LoginResult>;
  findUser(id: bigint): Promise<User | undefined>;
}

export interface AccountServiceDeps {
  users: UserRepository;
  hasher: PasswordHasher;
  tokens: AccessTokenIssuer;
  rateLimiter: AccountRateLimiter;
}

export function createAccountService({
  users,
  hasher,
  tokens,
  rateLimiter,
}: AccountServiceDeps): AccountService {
  // An unknown email is checked against this hash so that it takes as long to refuse as a wrong
  // password: the answer time does not tell which emails have accounts.
  const dummyHash = hasher.hash("no account has this password");
  // A failure surfaces at the first login that awaits it, not as an unhandled rejection at start-up.
  dummyHash.catch(() => {});

  return {
    async signUp({ email, password }, clientAddress) {
      const decision = await rateLimiter.signUp(clientAddress);
      if (!decision.allowed) {
        return { ok: false, reason: "TOO_MANY_REQUESTS", retryAfterSec: decision.retryAfterSec };
      }
      const user = await users.create({ email, passwordHash: await hasher.hash(password), role: "user" });
      return user ? { ok: true, user } : { ok: false, reason: "EMAIL_ALREADY_EXISTS" };
    },

    async login({ email, password }, clientAddress) {
      // Counted before any hashing, so refused attempts cost no argon2 work.
      const decision = await rateLimiter.attempt(email, clientAddress);
      if (!decision.allowed) {
        return { ok: false, reason: "TOO_MANY_REQUESTS", retryAfterSec: decision.retryAfterSec };
      }
      const user = await users.findByEmail(email);
      const matches = await hasher.verify(user?.passwordHash ?? (await dummyHash), password);
      if (!user || !matches) return { ok: false, reason: "INVALID_CREDENTIALS" };

      await rateLimiter.reset(email);
      // Hashes made under older (or test) parameters are upgraded while the password is at hand.
      if (hasher.needsRehash(user.passwordHash)) {
        await users.update(user.id, { passwordHash: await hasher.hash(password) });
      }
      return { ok: true, user, token: tokens.issue(user) };
    },

    findUser: (id) => users.findById(id),
  };
}

export interface EnsureAdminResult {
  user: User;
  created: boolean;
  promoted: boolean;
  passwordChanged: boolean;
}

/**
 * Makes the account with this email an admin whose password is the one given: creates it, promotes
 * it, or resets its password, whichever is needed. Running it again changes nothing, so a deploy
 * job can run it every time.
 */
export async function ensureAdmin(
  { users, hasher }: Pick<AccountServiceDeps, "users" | "hasher">,
  { email, password }: Credentials,
): Promise<EnsureAdminResult> {
  const existing = await users.findByEmail(email);
  if (!existing) {
    const created = await users.create({ email, passwordHash: await hasher.hash(password), role: "admin" });
    // Another run created the account between the lookup and the insert: converge on it instead.
    if (!created) return ensureAdmin({ users, hasher }, { email, password });
    return { user: created, created: true, promoted: false, passwordChanged: false };
  }
  const promoted = existing.role !== "admin";
  const passwordChanged = !(await hasher.verify(existing.passwordHash, password));
  const changes = {
    ...(promoted ? { role: "admin" as const } : {}),
    ...(passwordChanged ? { passwordHash: await hasher.hash(password) } : {}),
  };
  if (promoted || passwordChanged) await users.update(existing.id, changes);
  return { user: { ...existing, ...changes }, created: false, promoted, passwordChanged };
}
