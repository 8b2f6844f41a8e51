import { z } from "zod";

export interface ConfigIssue {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i.variable}: ${i.message}`).join("\n")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}

const SECRET_NAME = /PASSWORD|SECRET|TOKEN|PRIVATE|KEY/i;

function describeReceived(variable: string, value: string | undefined): string {
  if (value === undefined) return "it is not set";
  if (SECRET_NAME.test(variable)) return "the value is hidden because the variable holds a secret";
  return `got ${JSON.stringify(value)}`;
}

/** Parses the environment with a zod object schema whose keys are the variable names. */
export function parseConfig<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  env: Record<string, string | undefined>,
): z.infer<z.ZodObject<Shape>> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? "(environment)");
    return { variable, message: `${issue.message} (${describeReceived(variable, env[variable])})` };
  });
  throw new ConfigError(issues);
}

/**
 * The start-up form of parseConfig: a bad environment is an operator error, so the process stops
 * with status 1 and a message naming each offending variable instead of failing later, somewhere else.
 */
export function loadConfig<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  env: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<Shape>> {
  try {
    return parseConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

/** Field builders for the shapes that recur in every service's environment. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  positiveInt: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  string: () => z.string().trim().min(1, "must not be empty"),
  url: (protocols: readonly string[]) =>
    z
      .string()
      .trim()
      .refine(
        (value) => {
          try {
            return protocols.includes(new URL(value).protocol.replace(/:$/, ""));
          } catch {
            return false;
          }
        },
        `expected a URL starting with ${protocols.map((p) => `${p}://`).join(" or ")}`,
      ),
  list: () =>
    z
      .string()
      .transform((value) =>
        value
          .split(",")
          .map((item) => item.trim())
          .filter((item) => item.length > 0),
      )
      .refine((items) => items.length > 0, "expected a comma-separated list with at least one item"),
  boolean: (fallback: boolean) =>
    z
      .enum(["true", "false", "1", "0"], { error: 'expected "true", "false", "1" or "0"' })
      .default(fallback ? "true" : "false")
      .transform((value) => value === "true" || value === "1"),
  logLevel: () => z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
};

/** Variables every service reads: where to listen, how much to log, how long to take to stop. */
export const serviceEnv = {
  PORT: env.port(8080),
  HOST: z.string().trim().min(1).default("0.0.0.0"),
  LOG_LEVEL: env.logLevel(),
  SHUTDOWN_DEADLINE_MS: env.positiveInt(25_000),
  SHUTDOWN_DRAIN_DELAY_MS: z.coerce.number().int().min(0).default(0),
};

export { z };
