import { createJwtVerifier, type JwtVerifier } from "@coupon/auth";
import type { PrismaClient } from "@coupon/db";
import type { Redis } from "@coupon/redis";
import { createArgon2PasswordHasher } from "./adapters/argon2-password-hasher.ts";
import { createJwtAccessTokenIssuer } from "./adapters/jwt-access-token-issuer.ts";
import { createKeyRing, type KeyRing } from "./adapters/key-ring.ts";
import { createPrismaUserRepository } from "./adapters/prisma-user-repository.ts";
import { createRedisAccountRateLimiter } from "./adapters/redis-account-rate-limiter.ts";
import { type Config, signingKeyOf } from "./config.ts";
import { type AccountService, createAccountService } from "./domain/accounts.ts";

export interface UserService {
  accounts: AccountService;
  keyRing: KeyRing;
  /** Checks tokens against the key ring itself: this service is the issuer and needs no JWKS fetch. */
  verifier: JwtVerifier;
}

/**
 * The use cases over the clients that server.ts (or a test) has created. `now` moves the clock of
 * token issuance, for tests of expiry.
 */
export function wireUserService(
  config: Config,
  clients: { prisma: PrismaClient; redis: Redis },
  now: () => number = Date.now,
): UserService {
  const keyRing = createKeyRing(signingKeyOf(config), config.JWT_PUBLISHED_KEYS_DIR);
  const accounts = createAccountService({
    users: createPrismaUserRepository(clients.prisma),
    hasher: createArgon2PasswordHasher({
      memoryKib: config.ARGON2_MEMORY_KIB,
      timeCost: config.ARGON2_TIME_COST,
      parallelism: config.ARGON2_PARALLELISM,
    }),
    tokens: createJwtAccessTokenIssuer({
      signingKey: keyRing.signingKey,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      expiresInSec: config.JWT_EXPIRES_IN_SEC,
      now,
    }),
    rateLimiter: createRedisAccountRateLimiter(clients.redis, {
      email: { maxAttempts: config.LOGIN_MAX_ATTEMPTS_PER_EMAIL, windowSec: config.LOGIN_EMAIL_WINDOW_SEC },
      address: {
        maxAttempts: config.LOGIN_MAX_ATTEMPTS_PER_ADDRESS,
        windowSec: config.LOGIN_ADDRESS_WINDOW_SEC,
      },
      signUpAddress: {
        maxAttempts: config.SIGN_UP_MAX_PER_ADDRESS,
        windowSec: config.SIGN_UP_ADDRESS_WINDOW_SEC,
      },
    }),
  });
  const verifier = createJwtVerifier({
    keys: keyRing,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });
  return { accounts, keyRing, verifier };
}
