-- linkcredit schema, part 15: payouts (src/payout.rs). A closed period's
-- lines are frozen here; later changes to its credits become adjustment
-- lines (for_period) of the next open period when that one is closed.
CREATE TABLE payout_periods (
  period     TEXT    PRIMARY KEY,       -- YYYY-MM
  model      TEXT    NOT NULL,
  closed_at  INTEGER NOT NULL
);
CREATE TABLE payout_lines (
  id            INTEGER PRIMARY KEY,
  period        TEXT    NOT NULL REFERENCES payout_periods(period),
  influencer    TEXT    NOT NULL,
  kind          TEXT    NOT NULL,       -- base_fee, bonus, revenue_share, adjustment:<kind>
  for_period    TEXT,                   -- the closed period an adjustment corrects
  amount_minor  INTEGER NOT NULL
);
CREATE INDEX payout_lines_period ON payout_lines(period);
CREATE INDEX payout_lines_for ON payout_lines(for_period);
