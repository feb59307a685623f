-- linkcredit schema, part 18: each conversion's net revenue in the
-- reporting currency, as its last attribution run converted it (NULL: no
-- rate for its currency and day). Orders no model credits count in
-- lifetime value by it.
ALTER TABLE conversions ADD COLUMN reporting_minor INTEGER;
