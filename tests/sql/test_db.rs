//! The test database and its helpers: an in-memory SQLite with every
//! migration applied in name order (foreign keys on, as D1 enforces them),
//! rows as JSON for exact comparisons ([`check`]), the fixture world
//! (influencers, campaigns, links, codes) and writers that bind the shell's
//! own statements the way its handlers do.

use crate::ingest_sql::{code_touchpoint_sql, CONVERSION_INSERT_SQL};
use linkcredit::attribution::journey::INFLUENCER_CHANNEL;
use linkcredit::traffic::group_commit::{insert_sql, ClickRow, Param, ROWS_PER_STATEMENT};
use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::{params_from_iter, Connection, ToSql, MAIN_DB};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::OnceLock;

pub use linkcredit::base::time::{DAY, MINUTE};

/// A day every fixture lives around (2024-10-04, UTC), as a day number.
pub const D: i64 = 20_000;

/// Midnight (UTC) of day `D`, in ms.
pub const T0: i64 = D * DAY;

/// An hour, in ms.
pub const HOUR: i64 = 60 * MINUTE;

/// The repeat-click rule the shell binds (`30 * MINUTE`).
pub const UNIQUE_GAP: i64 = 30 * MINUTE;

/// A fresh database with every migration in `migrations/` applied in name
/// order, as `wrangler d1 migrations apply` does. The migrations run once
/// per test process, into a template; each test gets a private copy of it.
pub fn open() -> Connection {
    static TEMPLATE: OnceLock<Vec<u8>> = OnceLock::new();
    let template = TEMPLATE.get_or_init(|| {
        let db = migrated();
        let image = db.serialize(MAIN_DB).expect("serialize");
        image.to_vec()
    });
    let mut db = Connection::open_in_memory().expect("in-memory SQLite");
    db.deserialize_read_exact(MAIN_DB, &template[..], template.len(), false)
        .expect("the template");
    db.execute_batch("PRAGMA foreign_keys = ON;")
        .expect("foreign keys on");
    db
}

/// A database with every migration applied, foreign keys on (as D1
/// enforces them in migrations too).
fn migrated() -> Connection {
    let db = Connection::open_in_memory().expect("in-memory SQLite");
    db.execute_batch("PRAGMA foreign_keys = ON;")
        .expect("foreign keys on");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("migrations/ is readable")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    assert!(files.len() >= 18, "only {} migrations", files.len());
    for f in &files {
        let text = std::fs::read_to_string(f).expect("migration is UTF-8");
        db.execute_batch(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
    db
}

/// One cell as JSON (integers stay integers; text stays text).
fn cell(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => json!(n),
        ValueRef::Real(f) => json!(f),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(_) => panic!("no table holds blobs"),
    }
}

/// Every row of `sql` as a JSON array of arrays, in the statement's order.
pub fn rows(db: &Connection, sql: &str, params: &[&dyn ToSql]) -> Value {
    let mut stmt = db
        .prepare(sql)
        .unwrap_or_else(|e| panic!("prepare: {e}\n{sql}"));
    let n = stmt.column_count();
    let out: Vec<Value> = stmt
        .query_map(params, |r| {
            Ok(Value::Array(
                (0..n).map(|i| cell(r.get_ref(i).expect("cell"))).collect(),
            ))
        })
        .unwrap_or_else(|e| panic!("query: {e}\n{sql}"))
        .map(|r| r.expect("row"))
        .collect();
    Value::Array(out)
}

/// The column names of `sql`'s result.
pub fn columns(db: &Connection, sql: &str) -> Vec<String> {
    let stmt = db
        .prepare(sql)
        .unwrap_or_else(|e| panic!("prepare: {e}\n{sql}"));
    stmt.column_names().into_iter().map(str::to_owned).collect()
}

/// Runs a write; its number of changed rows (D1's `meta.changes`).
pub fn exec(db: &Connection, sql: &str, params: &[&dyn ToSql]) -> usize {
    db.execute(sql, params)
        .unwrap_or_else(|e| panic!("execute: {e}\n{sql}"))
}

/// The one check every data-driven test goes through: the rows of `sql`
/// (bound to `params`) are exactly `expected`, a JSON array of rows.
#[track_caller]
pub fn check(db: &Connection, what: &str, sql: &str, params: &[&dyn ToSql], expected: Value) {
    let got = rows(db, sql, params);
    assert_eq!(
        got,
        expected,
        "{what}:\n got      {}\n expected {}",
        serde_json::to_string(&got).unwrap_or_default(),
        serde_json::to_string(&expected).unwrap_or_default()
    );
}

/// A value as one JSON text parameter, as the shell's `json_text`.
pub fn json_text<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// The roster every test shares: influencers 1 `sarah` and 2 `max`,
/// campaigns 1 `spring` and 2 `summer`, links 1 `sarah-serum` (reel,
/// instagram, code SARAH10) and 2 `max-mask` (tiktok, no code), codes 1
/// SARAH10 (through link 1) and 2 MAX15 (no link).
pub fn world(db: &Connection) {
    db.execute_batch(&format!(
        "INSERT INTO influencers (id, handle, name, platform, created_at) VALUES
           (1, 'sarah', 'Sarah Lee', 'instagram', {t}), (2, 'max', 'Max Roe', 'tiktok', {t});
         INSERT INTO campaigns (id, slug, name, created_at) VALUES
           (1, 'spring', 'Spring launch', {t}), (2, 'summer', 'Summer sale', {t});
         INSERT INTO links (id, slug, destination, influencer_id, campaign_id, content, platform, created_at,
                            updated_at) VALUES
           (1, 'sarah-serum', 'https://shop.example/serum', 1, 1, 'reel-1', 'instagram', {t}, {t}),
           (2, 'max-mask', 'https://shop.example/mask', 2, 2, NULL, 'tiktok', {t}, {t});
         INSERT INTO codes (id, code, influencer_id, campaign_id, link_id, created_at) VALUES
           (1, 'SARAH10', 1, 1, 1, {t}), (2, 'MAX15', 2, 2, NULL, {t});
         UPDATE links SET discount_code = 'SARAH10' WHERE id = 1;",
        t = T0 - 90 * DAY
    ))
    .expect("the roster");
}

/// A human browser click of `visitor` on `link_id` at `ts`.
pub fn click(id: &str, link_id: i64, ts: i64, visitor: &str) -> ClickRow {
    ClickRow {
        id: id.to_owned(),
        link_id,
        ts,
        visitor_id: visitor.to_owned(),
        ua_family: "Mobile Safari".into(),
        country: Some("DE".into()),
        referer_host: Some("instagram.com".into()),
        app: None,
        os: "iOS".into(),
        device_class: "mobile".into(),
        is_bot: false,
        bot_name: None,
        via: "link".into(),
        code: None,
        trigger: "link".into(),
        rule: None,
        variant: None,
        ad_click_ids: None,
    }
}

/// A crawler's click.
pub fn bot(id: &str, link_id: i64, ts: i64) -> ClickRow {
    ClickRow {
        is_bot: true,
        bot_name: Some("Googlebot".into()),
        ua_family: "Googlebot".into(),
        device_class: "bot".into(),
        ..click(id, link_id, ts, &format!("bot-{id}"))
    }
}

/// Writes clicks as the shell's group commit does: the core's multi-row
/// `INSERT`s, [`ROWS_PER_STATEMENT`] rows each, in one transaction.
pub fn insert_clicks(db: &Connection, clicks: &[ClickRow]) {
    let tx = db.unchecked_transaction().expect("transaction");
    for chunk in clicks.chunks(ROWS_PER_STATEMENT) {
        let values: Vec<Sql> = chunk
            .iter()
            .flat_map(ClickRow::params)
            .map(|p| match p {
                Param::Text(s) => Sql::Text(s.to_owned()),
                Param::Int(n) => Sql::Integer(n),
                Param::Null => Sql::Null,
            })
            .collect();
        tx.execute(&insert_sql(chunk.len()), params_from_iter(values))
            .expect("click insert");
    }
    tx.commit().expect("commit");
}

/// An order as the conversions API stores it.
#[derive(Clone, Copy, Default)]
pub struct Order<'a> {
    pub order_id: &'a str,
    pub at: i64,
    pub revenue_minor: i64,
    pub click_id: Option<&'a str>,
    pub visitor: Option<&'a str>,
    pub customer: Option<&'a str>,
    pub email: Option<&'a str>,
}

impl Order<'_> {
    /// The payload fingerprint the fixtures use.
    pub fn fingerprint(&self) -> String {
        format!("fp:{}", self.order_id)
    }
}

/// Stores an order with the shell's `CONVERSION_INSERT_SQL` (EUR, no
/// codes, from the API); its id.
pub fn conversion(db: &Connection, o: &Order<'_>) -> i64 {
    let fingerprint = o.fingerprint();
    exec(
        db,
        CONVERSION_INSERT_SQL,
        rusqlite::params![
            o.order_id,
            o.at,
            o.revenue_minor,
            "EUR",
            o.click_id,
            o.visitor,
            o.customer,
            o.email,
            "[]",
            None::<String>,
            "api",
            fingerprint,
            o.at
        ],
    );
    db.query_row(
        "SELECT id FROM conversions WHERE order_id = ?1",
        [o.order_id],
        |r| r.get(0),
    )
    .expect("the stored order")
}

/// Stores the code touchpoint of order `o` for registered code `code`
/// (influencer, campaign) with the shell's statement and guard, received
/// five minutes after the order.
pub fn code_touchpoint(db: &Connection, o: &Order<'_>, code: (&str, i64, Option<i64>)) -> usize {
    exec(
        db,
        &code_touchpoint_sql(INFLUENCER_CHANNEL),
        rusqlite::params![
            o.order_id,
            o.fingerprint(),
            o.at,
            o.visitor,
            o.customer,
            code.1,
            code.2,
            code.0,
            o.at + 5 * MINUTE
        ],
    )
}

/// The row count of every table, by name.
pub fn table_counts(db: &Connection) -> Vec<(String, i64)> {
    tables(db)
        .into_iter()
        .map(|t| {
            let n = db
                .query_row(&format!("SELECT COUNT(*) FROM \"{t}\""), [], |r| r.get(0))
                .expect("count");
            (t, n)
        })
        .collect()
}

/// Every row of `table`, in a fixed order (sorted by their JSON text).
pub fn snapshot(db: &Connection, table: &str) -> Value {
    let mut all = rows(db, &format!("SELECT * FROM \"{table}\""), &[])
        .as_array()
        .cloned()
        .unwrap_or_default();
    all.sort_by_key(|r| r.to_string());
    Value::Array(all)
}

/// Every table of the schema (SQLite's own left out).
pub fn tables(db: &Connection) -> Vec<String> {
    let mut stmt = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .expect("schema");
    stmt.query_map([], |r| r.get(0))
        .expect("tables")
        .map(|r| r.expect("name"))
        .collect()
}

/// Every `table.column` holding `needle` anywhere in its text.
pub fn find_anywhere(db: &Connection, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for t in tables(db) {
        let cols: Vec<String> = {
            let mut stmt = db
                .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
                .expect("columns");
            stmt.query_map([], |r| r.get(0))
                .expect("columns")
                .map(|r| r.expect("name"))
                .collect()
        };
        for c in cols {
            let n: i64 = db
                .query_row(
                    &format!(
                        "SELECT COUNT(*) FROM \"{t}\" WHERE instr(CAST(\"{c}\" AS TEXT), ?1) > 0"
                    ),
                    [needle],
                    |r| r.get(0),
                )
                .expect("scan");
            if n > 0 {
                found.push(format!("{t}.{c} ({n})"));
            }
        }
    }
    found
}

/// The fields a `row!` struct of a shell source file reads, in order: the
/// columns its statement must return (read by name).
pub fn row_fields(file: &str, name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let start = text
        .find(&format!("struct {name} {{"))
        .unwrap_or_else(|| panic!("{file}: no struct {name}"));
    let body = &text[start..];
    let body = &body[body.find('{').expect("{") + 1..body.find('}').expect("}")];
    body.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && !l.starts_with('#') && l.contains(':'))
        .map(|l| {
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l[..l.find(':').expect(":")].trim().to_owned()
        })
        .collect()
}
