import type { Role } from "@coupon/auth";
import { Role as DbRole, Prisma, type PrismaClient, type User as UserRow } from "@coupon/db";
import type { User, UserRepository } from "../domain/accounts.ts";

const toDbRole = (role: Role): DbRole => (role === "admin" ? DbRole.ADMIN : DbRole.USER);

function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    role: row.role === DbRole.ADMIN ? "admin" : "user",
    passwordHash: row.passwordHash,
    createdAt: row.createdAt,
  };
}

const isUniqueViolation = (error: unknown) =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";

export function createPrismaUserRepository(prisma: PrismaClient): UserRepository {
  return {
    async create({ email, passwordHash, role }) {
      try {
        return toUser(await prisma.user.create({ data: { email, passwordHash, role: toDbRole(role) } }));
      } catch (error) {
        // The unique key decides, not a lookup before the insert: two sign-ups racing for one email
        // cannot both succeed.
        if (isUniqueViolation(error)) return undefined;
        throw error;
      }
    },
    async findByEmail(email) {
      const row = await prisma.user.findUnique({ where: { email } });
      return row ? toUser(row) : undefined;
    },
    async findById(id) {
      const row = await prisma.user.findUnique({ where: { id } });
      return row ? toUser(row) : undefined;
    },
    async update(id, { passwordHash, role }) {
      await prisma.user.update({
        where: { id },
        data: { passwordHash, role: role === undefined ? undefined : toDbRole(role) },
      });
    },
  };
}
