-- linkcredit schema, part 6: indexes for rebuilding rollups by day.
CREATE INDEX credits_converted_at ON credits(converted_at);
CREATE INDEX clicks_ts ON clicks(ts);
