import { ValidationError } from "@coupon/problems";
import type { z } from "zod";

/**
 * Validates request input against a schema; failures become a 400 naming every offending field.
 * `where` prefixes field names ("body", "query", "params") only for a value that is not an object.
 */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  where: "body" | "query" | "params" = "body",
): z.infer<Schema> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) => ({
      field: issue.path.length > 0 ? issue.path.join(".") : where,
      message: issue.message,
    })),
  );
}
