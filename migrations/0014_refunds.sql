-- linkcredit schema, part 14: refunds (src/refund.rs). An order's net
-- revenue is revenue_minor - refunded_minor; a refund marks the order for
-- re-attribution (dirty = 2), so its credits shrink by exactly the refund.
CREATE TABLE refunds (
  id             INTEGER PRIMARY KEY,
  conversion_id  INTEGER NOT NULL REFERENCES conversions(id),
  refund_key     TEXT    NOT NULL,     -- id:<refund_id>, or amount:<minor> without one
  amount_minor   INTEGER NOT NULL CHECK (amount_minor > 0),
  currency       TEXT    NOT NULL,
  refunded_at    INTEGER NOT NULL,
  received_at    INTEGER NOT NULL,
  UNIQUE (conversion_id, refund_key)
);
ALTER TABLE conversions ADD COLUMN refunded_minor INTEGER NOT NULL DEFAULT 0;
