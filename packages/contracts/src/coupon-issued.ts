import { z } from "zod";
import { isUserId } from "./user-id.ts";

/**
 * The value of a `coupon.issued` Kafka record (key: the coupon id as a decimal string). Produced by
 * the issue service's outbox relay, consumed by the issue-consumer. `issueId` is the outbox stream
 * entry id: unique per accepted issuance, useful for tracing a row back to its acceptance.
 */
export const couponIssuedSchema = z.object({
  issueId: z.string().min(1),
  couponId: z.number().int().positive(),
  eventId: z.number().int().positive(),
  userId: z.string().refine(isUserId, "expected a positive decimal user id within BIGINT"),
  issuedAt: z.iso.datetime(),
});

export type CouponIssued = z.infer<typeof couponIssuedSchema>;
