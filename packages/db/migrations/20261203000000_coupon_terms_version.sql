-- migrate:up
-- Grows with every change of a coupon's stock or validity. The terms the issuance script enforces
-- live in Redis and are written by more than one process (a change, a load after Redis lost them);
-- the version lets a writer of older terms see that it must not overwrite newer ones.
ALTER TABLE coupons ADD COLUMN terms_version INT NOT NULL DEFAULT 1 AFTER valid_until;

-- migrate:down
ALTER TABLE coupons DROP COLUMN terms_version;
