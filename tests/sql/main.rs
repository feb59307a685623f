//! The shell's SQL, natively: the statements in `src/edge/*/sql.rs` run
//! against an in-memory SQLite with every migration applied, bound with
//! the same numbered and JSON parameters as the handlers bind them (see
//! `shell.rs` for the handlers' order of statements), with exact results.
//! Plain `cargo test`; the end-to-end suite still runs them on D1.

// The SQL files hold only constants and text builders (no `worker`), so
// they compile natively as they are.
#[path = "../../src/edge/attribution/sql.rs"]
mod attribution_sql;
#[path = "../../src/edge/ingest/sql.rs"]
mod ingest_sql;
#[path = "../../src/edge/links/sql.rs"]
mod links_sql;

mod columns;
mod dims;
mod dirty;
mod erasure;
mod fixtures;
mod journeys;
mod pagination;
mod rollups;
mod shell;
mod test_db;
