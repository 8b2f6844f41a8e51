import { describe, expect, it } from "vitest";
import { loginSchema, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, signUpSchema } from "./credentials.ts";

const fieldsOf = (result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) =>
  result.error?.issues.map((issue) => issue.path.join(".")) ?? [];

describe("sign-up credentials", () => {
  it("when the email has spaces and capitals, then it is trimmed and lower-cased", () => {
    expect(signUpSchema.parse({ email: "  Ann.Lee@Example.COM ", password: "long enough" }).email).toBe(
      "ann.lee@example.com",
    );
  });

  it("when the password is at either length limit, then it passes; one past, then it names password", () => {
    const email = "a@example.com";
    for (const length of [PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH]) {
      expect(signUpSchema.safeParse({ email, password: "p".repeat(length) }).success).toBe(true);
    }
    for (const length of [PASSWORD_MIN_LENGTH - 1, PASSWORD_MAX_LENGTH + 1]) {
      expect(fieldsOf(signUpSchema.safeParse({ email, password: "p".repeat(length) }))).toEqual(["password"]);
    }
  });

  it("when the password has surrounding spaces, then they are kept", () => {
    expect(signUpSchema.parse({ email: "a@example.com", password: "  spaced  " }).password).toBe(
      "  spaced  ",
    );
  });

  it("when a password is composed or decomposed Unicode, then both normalise to the same string", () => {
    const composed = signUpSchema.parse({ email: "a@example.com", password: "caf\u00e9 cr\u00e8me" });
    const decomposed = loginSchema.parse({ email: "a@example.com", password: "cafe\u0301 cre\u0300me" });
    expect(decomposed.password).toBe(composed.password);
  });

  it("when the email is no address or too long, then it names email", () => {
    const undeliverable = [
      `${"a".repeat(65)}@example.com`,
      `a@${"b".repeat(64)}.com`,
      "a@example-.com",
      "a@sub-.example.com",
    ];
    for (const email of [
      "",
      "plain",
      "a@",
      "@example.com",
      `${"a".repeat(243)}@example.com`,
      ...undeliverable,
    ]) {
      expect(fieldsOf(signUpSchema.safeParse({ email, password: "long enough" })), email).toEqual(["email"]);
    }
  });

  it("when the email is at RFC 5321's limits, then it is accepted", () => {
    for (const email of [`${"a".repeat(64)}@example.com`, `a@${"b".repeat(63)}.com`]) {
      expect(signUpSchema.safeParse({ email, password: "long enough" }).success, email).toBe(true);
    }
  });
});

describe("login credentials", () => {
  it("when the email is past the limits a new account must meet, then it is still a well-formed login", () => {
    expect(loginSchema.safeParse({ email: `${"a".repeat(65)}@example.com`, password: "x" }).success).toBe(
      true,
    );
  });

  it("when the password is shorter than sign-up allows, then it is still a well-formed login", () => {
    expect(loginSchema.safeParse({ email: "a@example.com", password: "x" }).success).toBe(true);
    expect(fieldsOf(loginSchema.safeParse({ email: "a@example.com", password: "" }))).toEqual(["password"]);
  });
});
