// Creates the admin account, or promotes it and resets its password: the account ADMIN_EMAIL ends up
// an admin whose password is ADMIN_PASSWORD. Idempotent, for the local up command and for a
// Kubernetes Job: `DATABASE_URL=… ADMIN_EMAIL=… ADMIN_PASSWORD=… node src/commands/create-admin.ts`.
import { loadConfig, z } from "@coupon/config";
import { createPrismaClient } from "@coupon/db";
import { createLogger } from "@coupon/logging";
import { createArgon2PasswordHasher } from "../adapters/argon2-password-hasher.ts";
import { createPrismaUserRepository } from "../adapters/prisma-user-repository.ts";
import { configSchema, passwordHashingEnv } from "../config.ts";
import { ensureAdmin } from "../domain/accounts.ts";
import { emailSchema, newPasswordSchema } from "../domain/credentials.ts";

const config = loadConfig(
  z.object({
    ...passwordHashingEnv,
    DATABASE_URL: configSchema.shape.DATABASE_URL,
    LOG_LEVEL: configSchema.shape.LOG_LEVEL,
    ADMIN_EMAIL: emailSchema,
    ADMIN_PASSWORD: newPasswordSchema,
  }),
);
const logger = createLogger({ service: "user", level: config.LOG_LEVEL });
const prisma = createPrismaClient(config.DATABASE_URL, { poolSize: 1 });
try {
  const result = await ensureAdmin(
    {
      users: createPrismaUserRepository(prisma),
      hasher: createArgon2PasswordHasher({
        memoryKib: config.ARGON2_MEMORY_KIB,
        timeCost: config.ARGON2_TIME_COST,
        parallelism: config.ARGON2_PARALLELISM,
      }),
    },
    { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD },
  );
  logger.info(
    {
      user_id: result.user.id.toString(),
      email: result.user.email,
      created: result.created,
      promoted: result.promoted,
      password_changed: result.passwordChanged,
    },
    "admin account ready",
  );
} catch (error) {
  logger.error({ err: error }, "cannot create the admin account");
  process.exitCode = 1;
} finally {
  await prisma.$disconnect();
}
