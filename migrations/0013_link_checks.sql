-- linkcredit schema, part 13: pre-launch link checks (src/linkcheck.rs).
-- The latest check of each link: when, whether every agent's chain was
-- healthy, the reasons it was not, and each agent's hops and verdict.
CREATE TABLE link_checks (
  link_id     INTEGER PRIMARY KEY REFERENCES links(id),
  checked_at  INTEGER NOT NULL,
  ok          INTEGER NOT NULL,
  reasons     TEXT    NOT NULL,      -- JSON array (linkcheck::REASONS)
  results     TEXT    NOT NULL       -- JSON array of AgentResult
);
CREATE INDEX link_checks_due ON link_checks(checked_at);
