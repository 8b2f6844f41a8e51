import { z } from "zod";

export const PASSWORD_MIN_LENGTH = 8;
/** argon2 has no length cut-off (unlike bcrypt's 72 bytes); the cap bounds the work one request costs. */
export const PASSWORD_MAX_LENGTH = 128;
// The longest address SMTP can deliver to (RFC 5321 path limit); the column holds 255.
const EMAIL_MAX_LENGTH = 254;

/** Trimmed and lower-cased, so "Ann@Example.com " and "ann@example.com" are one account. */
export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(EMAIL_MAX_LENGTH, `must be at most ${EMAIL_MAX_LENGTH} characters`)
  .pipe(z.email("must be an email address"));

/**
 * Passwords are compared after Unicode NFKC normalisation (NIST SP 800-63B, 5.1.1.2), so the same
 * password typed on keyboards that compose accents differently still matches. Never trimmed.
 */
const normalizedPassword = z.string().transform((password) => password.normalize("NFKC"));

export const newPasswordSchema = normalizedPassword.pipe(
  z
    .string()
    .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
    .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`),
);

/**
 * At login only the upper bound applies: a password that was valid under older rules still logs in,
 * and a too-short one is answered like any other wrong password.
 */
export const givenPasswordSchema = normalizedPassword.pipe(
  z
    .string()
    .min(1, "must not be empty")
    .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`),
);

// RFC 5321's limits (4.5.3.1) and RFC 1123's hostnames, which the email pattern does not check.
const LOCAL_PART_MAX_LENGTH = 64;
const DOMAIN_LABEL_MAX_LENGTH = 63;

function deliverable(email: string): boolean {
  const at = email.lastIndexOf("@");
  const labels = email.slice(at + 1).split(".");
  return (
    at <= LOCAL_PART_MAX_LENGTH &&
    labels.every((label) => label.length <= DOMAIN_LABEL_MAX_LENGTH && !label.endsWith("-"))
  );
}

/**
 * A new account's address must be one mail can reach. Login keeps the looser emailSchema: an
 * address that cannot be registered is answered like any unknown one.
 */
export const newEmailSchema = emailSchema.refine(
  deliverable,
  `must have at most ${LOCAL_PART_MAX_LENGTH} characters before the @ and domain labels of at most ${DOMAIN_LABEL_MAX_LENGTH} that do not end with "-"`,
);

export const signUpSchema = z.object({ email: newEmailSchema, password: newPasswordSchema });
export const loginSchema = z.object({ email: emailSchema, password: givenPasswordSchema });

export type Credentials = z.infer<typeof signUpSchema>;
