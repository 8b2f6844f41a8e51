import { authenticate, type JwtVerifier, principalOf, requireRole } from "@coupon/auth";
import { parseInput } from "@coupon/http";
import { AppError, NotFoundError } from "@coupon/problems";
import { type Request, Router } from "express";
import { Counter, type Registry } from "prom-client";
import { z } from "zod";
import type { AccountService, User } from "../domain/accounts.ts";
import { loginSchema, signUpSchema } from "../domain/credentials.ts";

export interface UserRoutesDeps {
  accounts: AccountService;
  verifier: JwtVerifier;
  registry: Registry;
}

const MAX_BIGINT = 2n ** 63n - 1n;
export const userIdParams = z.object({
  userId: z
    .string()
    .regex(/^[1-9][0-9]{0,18}$/, "must be a positive integer")
    .transform(BigInt)
    .refine((id) => id <= MAX_BIGINT, "is out of range"),
});

const profile = (user: User) => ({
  id: user.id.toString(),
  email: user.email,
  role: user.role,
  createdAt: user.createdAt.toISOString(),
});

async function existingUser(accounts: AccountService, id: bigint): Promise<User> {
  const user = await accounts.findUser(id);
  if (!user) throw new NotFoundError("USER_NOT_FOUND", `there is no user ${id}`);
  return user;
}

/** Without a trusted proxy in front (TRUST_PROXY) this is the peer address, which a client cannot forge. */
const clientAddress = (req: Request) => req.ip ?? "unknown";

export function userRoutes({ accounts, verifier, registry }: UserRoutesDeps): Router {
  const router = Router();
  const loginOutcomes = new Counter({
    name: "user_login_attempts_total",
    help: "Login attempts by outcome: success, invalid_credentials, rate_limited",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });

  router.post("/users/sign-up", async (req, res) => {
    const result = await accounts.signUp(parseInput(signUpSchema, req.body), clientAddress(req));
    if (!result.ok && result.reason === "TOO_MANY_REQUESTS") {
      throw new AppError({
        status: 429,
        code: "TOO_MANY_REQUESTS",
        title: "Too many sign-ups",
        detail: `too many sign-ups from this address; retry in ${result.retryAfterSec} s`,
        headers: { "retry-after": String(result.retryAfterSec) },
      });
    }
    if (!result.ok) {
      throw new AppError({
        status: 409,
        code: "EMAIL_ALREADY_EXISTS",
        title: "Email already registered",
        detail: "an account with this email already exists",
      });
    }
    res
      .status(201)
      .location(`/users/${result.user.id}`)
      .json({ id: result.user.id.toString(), email: result.user.email });
  });

  router.post("/users/login", async (req, res) => {
    const result = await accounts.login(parseInput(loginSchema, req.body), clientAddress(req));
    if (!result.ok && result.reason === "TOO_MANY_REQUESTS") {
      loginOutcomes.inc({ outcome: "rate_limited" });
      throw new AppError({
        status: 429,
        code: "TOO_MANY_REQUESTS",
        title: "Too many login attempts",
        detail: `too many login attempts for this email or from this address; retry in ${result.retryAfterSec} s`,
        headers: { "retry-after": String(result.retryAfterSec) },
      });
    }
    if (!result.ok) {
      loginOutcomes.inc({ outcome: "invalid_credentials" });
      // One answer for an unknown email and a wrong password, so it does not reveal who has an account.
      throw new AppError({
        status: 401,
        code: "INVALID_CREDENTIALS",
        title: "Invalid credentials",
        detail: "the email or the password is wrong",
      });
    }
    loginOutcomes.inc({ outcome: "success" });
    res.set("cache-control", "no-store").json({
      token: {
        grantType: "Bearer",
        accessToken: result.token.accessToken,
        expiresIn: result.token.expiresInSec,
      },
    });
  });

  router.get("/users/me", authenticate(verifier), async (req, res) => {
    res.json(profile(await existingUser(accounts, BigInt(principalOf(req).userId))));
  });

  router.get("/users/:userId", authenticate(verifier), requireRole("admin"), async (req, res) => {
    const { userId } = parseInput(userIdParams, req.params, "params");
    res.json(profile(await existingUser(accounts, userId)));
  });

  return router;
}
