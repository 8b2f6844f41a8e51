-- migrate:up
-- The four tables of the coupon system. Must agree column by column with prisma/schema.prisma:
-- test/schema-drift.test.ts compares the migrated database with it.

CREATE TABLE users (
  id BIGINT NOT NULL AUTO_INCREMENT,
  email VARCHAR(255) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  role ENUM('USER', 'ADMIN') NOT NULL DEFAULT 'USER',
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_users_email (email)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE events (
  id BIGINT NOT NULL AUTO_INCREMENT,
  name VARCHAR(255) NOT NULL,
  starts_at DATETIME(3) NOT NULL,
  ends_at DATETIME(3) NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- issued_quantity is written back from Redis (monotonic); the checks keep it within the stock.
CREATE TABLE coupons (
  id BIGINT NOT NULL AUTO_INCREMENT,
  event_id BIGINT NOT NULL,
  discount_type ENUM('PERCENT', 'AMOUNT') NOT NULL,
  discount_rate INT NULL,
  discount_price INT NULL,
  max_quantity INT NOT NULL,
  issued_quantity INT NOT NULL DEFAULT 0,
  valid_from DATETIME(3) NOT NULL,
  valid_until DATETIME(3) NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY idx_coupons_event_id (event_id),
  CONSTRAINT fk_coupons_event FOREIGN KEY (event_id) REFERENCES events (id)
    ON DELETE RESTRICT ON UPDATE RESTRICT,
  CONSTRAINT ck_coupons_max_quantity CHECK (max_quantity >= 0),
  CONSTRAINT ck_coupons_issued_quantity CHECK (issued_quantity >= 0 AND issued_quantity <= max_quantity)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- One row per accepted issuance, written by the issue-consumer from Kafka. The unique key makes the
-- consumer's insert idempotent: a redelivered message cannot create a second row. Its leading
-- column also serves lookups by coupon, so there is no separate index on coupon_id.
CREATE TABLE coupon_issues (
  id BIGINT NOT NULL AUTO_INCREMENT,
  coupon_id BIGINT NOT NULL,
  user_id BIGINT NOT NULL,
  status ENUM('ACTIVE', 'USED', 'EXPIRED') NOT NULL DEFAULT 'ACTIVE',
  issued_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_coupon_issues_coupon_user (coupon_id, user_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- migrate:down
DROP TABLE coupon_issues;
DROP TABLE coupons;
DROP TABLE events;
DROP TABLE users;
