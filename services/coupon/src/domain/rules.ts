import type { IssuanceTerms } from "@coupon/contracts";
import { z } from "zod";
import type { StoredCoupon } from "./model.ts";

/** A broken business rule, named by the request field that has to change. */
export interface FieldViolation {
  field: string;
  message: string;
}

// The quantity and price columns are INT; larger values would fail in the database, not here.
const MAX_INT = 2_147_483_647;
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(10_000, 0, 1);

const instant = () =>
  z.iso
    .datetime({
      offset: true,
      error: "expected an ISO 8601 date-time with a time zone, e.g. 2026-11-27T00:00:00Z",
    })
    .transform((value) => new Date(value))
    .refine((date) => date.getTime() >= EARLIEST && date.getTime() < LATEST, "must be between 1970 and 9999");

/** A database id as a JSON number: positive and integral (zod's int() also means exact in a double). */
export const idNumber = () => z.number().int().positive();

/** A database id in a path or query string: decimal digits only, no sign, no leading zero. */
export const idString = () =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, "expected a positive integer id")
    .transform(Number)
    .refine(Number.isSafeInteger, "expected a positive integer id");

const stock = () =>
  z
    .number({ error: "expected a positive integer" })
    .int("expected a positive integer")
    .positive("expected a positive integer")
    .max(MAX_INT);

/**
 * Options of a rule across fields that is checked even when other fields are wrong, so that one
 * answer lists every problem; skipped only while one of its own fields is wrong (already reported).
 */
function crossField(fields: readonly string[], field: string, message: string) {
  return {
    path: [field],
    message,
    when: ({ issues }: z.core.ParsePayload) =>
      issues.every((issue) => {
        const top = issue.path?.[0];
        return top !== undefined && !fields.includes(String(top));
      }),
  };
}

export const newEventSchema = z
  .object({
    name: z.string().trim().min(1, "must not be empty").max(255),
    startsAt: instant(),
    endsAt: instant(),
  })
  .refine(
    (e) => e.startsAt < e.endsAt,
    crossField(["startsAt", "endsAt"], "endsAt", "must be after startsAt"),
  );

export type NewEvent = z.infer<typeof newEventSchema>;

const isSet = (value: unknown) => value !== undefined && value !== null;

export const newCouponSchema = z
  .object({
    eventId: idNumber(),
    discountType: z.enum(["PERCENT", "AMOUNT"]),
    discountRate: z.number().int("expected an integer percentage").min(1).max(100).nullish(),
    discountPrice: z.number().int("expected an integer amount").positive().max(MAX_INT).nullish(),
    maxQuantity: stock(),
    validFrom: instant(),
    validUntil: instant(),
  })
  .refine(
    (c) => c.discountType !== "PERCENT" || isSet(c.discountRate),
    crossField(["discountType", "discountRate"], "discountRate", "required when discountType is PERCENT"),
  )
  .refine(
    (c) => c.discountType !== "AMOUNT" || !isSet(c.discountRate),
    crossField(
      ["discountType", "discountRate"],
      "discountRate",
      "must not be set when discountType is AMOUNT",
    ),
  )
  .refine(
    (c) => c.discountType !== "AMOUNT" || isSet(c.discountPrice),
    crossField(["discountType", "discountPrice"], "discountPrice", "required when discountType is AMOUNT"),
  )
  .refine(
    (c) => c.discountType !== "PERCENT" || !isSet(c.discountPrice),
    crossField(
      ["discountType", "discountPrice"],
      "discountPrice",
      "must not be set when discountType is PERCENT",
    ),
  )
  .refine(
    (c) => c.validFrom < c.validUntil,
    crossField(["validFrom", "validUntil"], "validUntil", "must be after validFrom"),
  )
  .transform((c) => ({ ...c, discountRate: c.discountRate ?? null, discountPrice: c.discountPrice ?? null }));

export type NewCoupon = z.infer<typeof newCouponSchema>;

/** What an admin may change on a coupon: its stock and its validity window. */
export const couponChangeSchema = z
  .object({
    maxQuantity: stock().optional(),
    validFrom: instant().optional(),
    validUntil: instant().optional(),
  })
  .refine(
    (c) => c.maxQuantity !== undefined || c.validFrom !== undefined || c.validUntil !== undefined,
    "send at least one of maxQuantity, validFrom, validUntil",
  );

export type CouponChange = z.infer<typeof couponChangeSchema>;

export interface CouponTerms {
  maxQuantity: number;
  validFrom: Date;
  validUntil: Date;
}

export type ChangeDecision =
  | { ok: true; terms: CouponTerms }
  | { ok: false; reason: "INVALID_WINDOW" | "STOCK_BELOW_ISSUED"; violations: FieldViolation[] };

/**
 * The coupon's terms after a change, or why the change is refused. `issued` is the most that may
 * already have been handed out; the stock may never drop below it.
 */
export function decideCouponChange(
  current: StoredCoupon,
  change: CouponChange,
  issued: number,
): ChangeDecision {
  const terms: CouponTerms = {
    maxQuantity: change.maxQuantity ?? current.maxQuantity,
    validFrom: change.validFrom ?? current.validFrom,
    validUntil: change.validUntil ?? current.validUntil,
  };
  if (terms.validFrom >= terms.validUntil) {
    const field = change.validUntil !== undefined ? "validUntil" : "validFrom";
    const message =
      field === "validUntil"
        ? `must be after validFrom (${terms.validFrom.toISOString()})`
        : `must be before validUntil (${terms.validUntil.toISOString()})`;
    return { ok: false, reason: "INVALID_WINDOW", violations: [{ field, message }] };
  }
  const floor = Math.max(issued, current.issuedQuantity);
  if (change.maxQuantity !== undefined && change.maxQuantity < floor) {
    return {
      ok: false,
      reason: "STOCK_BELOW_ISSUED",
      violations: [{ field: "maxQuantity", message: `must be at least ${floor}, the number already issued` }],
    };
  }
  return { ok: true, terms };
}

/**
 * The stricter of two versions of a coupon's terms, field by field: what the issuance script
 * enforces while a change is between Redis and its database commit. Whichever way that ends, no
 * issuance is allowed that either version would refuse.
 */
export function strictestTerms(before: IssuanceTerms, after: IssuanceTerms): IssuanceTerms {
  return {
    ...after,
    stock: Math.min(before.stock, after.stock),
    validUntilMs: Math.min(before.validUntilMs, after.validUntilMs),
  };
}
