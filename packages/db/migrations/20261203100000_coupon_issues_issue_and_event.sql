-- migrate:up
-- Which acceptance a row comes from (the outbox stream entry id the issue service gave it, as in the
-- coupon.issued record) and for which event: a row can be traced back to its request, and read by
-- event, without joining coupons. NULL for rows stored before this migration.
ALTER TABLE coupon_issues
  ADD COLUMN issue_id VARCHAR(64) NULL AFTER id,
  ADD COLUMN event_id BIGINT NULL AFTER coupon_id;

-- migrate:down
ALTER TABLE coupon_issues DROP COLUMN event_id, DROP COLUMN issue_id;
