import { bearerAuth, type JwkSet, ROLES } from "@coupon/auth";
import type { ApiSpec } from "@coupon/http";
import { z } from "zod";
import { loginSchema, signUpSchema } from "../domain/credentials.ts";
import { userIdParams } from "./users.ts";

const userId = z.string().regex(/^[1-9][0-9]*$/);

const profile = z.object({
  id: userId,
  email: z.string(),
  role: z.enum(ROLES),
  createdAt: z.iso.datetime(),
});

const jwkSet: z.ZodType<JwkSet> = z.object({
  keys: z.array(
    z.object({
      kty: z.literal("RSA"),
      n: z.string(),
      e: z.string(),
      kid: z.string().describe("the key's RFC 7638 thumbprint"),
      alg: z.literal("RS256"),
      use: z.literal("sig"),
    }),
  ),
});

const tooMany = {
  429: { codes: ["TOO_MANY_REQUESTS"], headers: { "Retry-After": "seconds until the next attempt counts" } },
};
const userNotFound = { 404: { codes: ["USER_NOT_FOUND"] } };
// This service signs the tokens itself: it checks them with its own keys, never fetched.
const tokenRequired = bearerAuth({ remoteKeys: false });

export const userApi: ApiSpec = {
  title: "User service",
  version: "1.0.0",
  description: "Accounts, login and the keys that sign access tokens.",
  operations: [
    {
      method: "get",
      path: "/.well-known/jwks.json",
      operationId: "getJwks",
      summary: "The public keys that verify access tokens",
      responses: {
        200: {
          description: "the key set, cacheable for five minutes",
          body: jwkSet,
          contentType: "application/jwk-set+json",
        },
      },
    },
    {
      method: "post",
      path: "/users/sign-up",
      operationId: "signUp",
      summary: "Create an account with the user role",
      description:
        "The email is trimmed and lower-cased; the password has 8 to 128 characters after NFKC normalisation. " +
        "Limited per client address.",
      body: signUpSchema,
      responses: {
        201: {
          description: "the account",
          body: z.object({ id: userId, email: z.string() }),
          headers: { Location: "the account's URL" },
        },
      },
      problems: { 409: { codes: ["EMAIL_ALREADY_EXISTS"] }, ...tooMany },
    },
    {
      method: "post",
      path: "/users/login",
      operationId: "login",
      summary: "Exchange an email and password for an access token",
      description: "Limited per email and per client address.",
      body: loginSchema,
      responses: {
        200: {
          description: "an RS256 access token",
          body: z.object({
            token: z.object({
              grantType: z.literal("Bearer"),
              accessToken: z.string(),
              expiresIn: z.number().int().positive().describe("seconds"),
            }),
          }),
        },
      },
      problems: { 401: { codes: ["INVALID_CREDENTIALS"] }, ...tooMany },
    },
    {
      method: "get",
      path: "/users/me",
      operationId: "getMe",
      summary: "The account the token names",
      auth: tokenRequired,
      responses: { 200: { description: "the account", body: profile } },
      problems: userNotFound,
    },
    {
      method: "get",
      path: "/users/:userId",
      operationId: "getUser",
      summary: "Any account, for admins",
      auth: bearerAuth({ role: "admin", remoteKeys: false }),
      params: userIdParams,
      responses: { 200: { description: "the account", body: profile } },
      problems: userNotFound,
    },
  ],
};
