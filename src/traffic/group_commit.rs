//! Group commit for clicks: the wire form of a click, the multi-row
//! `INSERT` that writes a group of them, the key a failed group is spilled
//! under, and the policy that decides when a group is written.
//!
//! The redirect never writes its own click. It hands the click to the
//! isolate's open group (the shell's `edge::clicks`), which is written as
//! one D1 `batch()` (or sent as one queue `sendBatch`) when its timer fires
//! or it is full, whichever comes first. Everything here is pure; the
//! timer, the buffer and the I/O live in the shell.

use crate::base::time::Millis;
use crate::traffic::click::Click;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// The columns of one click row, in binding order.
pub const CLICK_COLUMNS: [&str; 18] = [
    "id",
    "link_id",
    "ts",
    "visitor_id",
    "ua_family",
    "country",
    "referer_host",
    "app",
    "os",
    "device_class",
    "is_bot",
    "bot_name",
    "via",
    "code",
    "trigger",
    "rule",
    "variant",
    "ad_click_ids",
];

/// D1 binds at most this many parameters in one statement.
pub const MAX_BOUND_PARAMS: usize = 100;

/// Click rows per `INSERT` statement: as many as fit the parameter limit.
pub const ROWS_PER_STATEMENT: usize = MAX_BOUND_PARAMS / CLICK_COLUMNS.len();

/// A click as it travels: in the isolate's buffer, in a queue message and
/// in a spilled group. Owned strings, so it (de)serialises losslessly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClickRow {
    pub id: String,
    pub link_id: i64,
    pub ts: Millis,
    pub visitor_id: String,
    pub ua_family: String,
    pub country: Option<String>,
    pub referer_host: Option<String>,
    pub app: Option<String>,
    pub os: String,
    pub device_class: String,
    pub is_bot: bool,
    pub bot_name: Option<String>,
    pub via: String,
    pub code: Option<String>,
    /// `link` or `qr`; rows queued or spilled before it existed are `link`.
    #[serde(default = "link_trigger")]
    pub trigger: String,
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
    /// Ad-platform click ids from the link's URL, as JSON text
    /// ([`crate::traffic::ad_click_ids`]).
    #[serde(default)]
    pub ad_click_ids: Option<String>,
}

fn link_trigger() -> String {
    "link".into()
}

impl From<&Click> for ClickRow {
    fn from(c: &Click) -> ClickRow {
        ClickRow {
            id: c.id.as_str().to_owned(),
            link_id: c.link_id,
            ts: c.ts,
            visitor_id: c.visitor_id.as_str().to_owned(),
            ua_family: c.ua_family.to_owned(),
            country: c.country.clone(),
            referer_host: c.referer_host.clone(),
            app: c.app.map(str::to_owned),
            os: c.os.to_owned(),
            device_class: c.device_class.to_owned(),
            is_bot: c.is_bot,
            bot_name: c.bot_name.map(str::to_owned),
            via: c.via.as_str().to_owned(),
            code: c.code.clone(),
            trigger: c.trigger.as_str().to_owned(),
            rule: c.rule.clone(),
            variant: c.variant.clone(),
            ad_click_ids: c.ad_click_ids.clone(),
        }
    }
}

fn text(v: &Option<String>) -> Param<'_> {
    v.as_deref().map_or(Param::Null, Param::Text)
}

/// One bound value of a click row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Param<'a> {
    Text(&'a str),
    Int(i64),
    Null,
}

impl ClickRow {
    /// The row's values in [`CLICK_COLUMNS`] order.
    pub fn params(&self) -> [Param<'_>; CLICK_COLUMNS.len()] {
        [
            Param::Text(&self.id),
            Param::Int(self.link_id),
            Param::Int(self.ts),
            Param::Text(&self.visitor_id),
            Param::Text(&self.ua_family),
            text(&self.country),
            text(&self.referer_host),
            text(&self.app),
            Param::Text(&self.os),
            Param::Text(&self.device_class),
            Param::Int(i64::from(self.is_bot)),
            text(&self.bot_name),
            Param::Text(&self.via),
            text(&self.code),
            Param::Text(&self.trigger),
            text(&self.rule),
            text(&self.variant),
            text(&self.ad_click_ids),
        ]
    }
}

/// The `INSERT` of `rows` click rows (1 ..= [`ROWS_PER_STATEMENT`]) with
/// numbered parameters. A click id already stored is skipped, so a group
/// written twice (a retry after a lost reply, a spill drained twice, a
/// queue redelivery) still stores each click once.
pub fn insert_sql(rows: usize) -> String {
    assert!(
        (1..=ROWS_PER_STATEMENT).contains(&rows),
        "insert_sql: {rows} rows"
    );
    let mut sql = format!("INSERT INTO clicks ({}) VALUES ", CLICK_COLUMNS.join(", "));
    let n = CLICK_COLUMNS.len();
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..n {
            let sep = if c == 0 { "" } else { ", " };
            let _ = write!(sql, "{sep}?{}", r * n + c + 1);
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT(id) DO NOTHING");
    sql
}

/// The click ids of `rows`, comma-separated (for log lines that must let
/// an operator account for every click).
pub fn ids(rows: &[ClickRow]) -> String {
    rows.iter()
        .map(|r| r.id.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The KV key prefix of spilled groups (see [`spill_key`]).
pub const SPILL_PREFIX: &str = "spill:clicks:";

/// The KV key a group that could not be written is spilled under: sortable
/// by time, unique by its first click id.
pub fn spill_key(rows: &[ClickRow]) -> String {
    let (ts, id) = rows.first().map_or((0, ""), |r| (r.ts, r.id.as_str()));
    format!("{SPILL_PREFIX}{ts:013}:{id}")
}

/// When a group is written (`CLICK_FLUSH_MS`, `CLICK_BATCH_MAX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommit {
    /// The first click of a group starts a timer this long (milliseconds);
    /// the group is written when it fires. Default 25.
    pub max_wait_ms: u32,
    /// A group is written as soon as it holds this many clicks. Default 50;
    /// 1 writes every click on its own (no grouping).
    pub max_clicks: usize,
}

impl Default for GroupCommit {
    fn default() -> Self {
        GroupCommit {
            max_wait_ms: 25,
            max_clicks: 50,
        }
    }
}

/// The most clicks one group may hold: one queue `sendBatch` carries at
/// most 100 messages.
pub const MAX_GROUP: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> ClickRow {
        ClickRow {
            id: id.into(),
            link_id: 7,
            ts: 1_700_000_000_000,
            visitor_id: "v".into(),
            ua_family: "safari".into(),
            country: Some("DE".into()),
            referer_host: None,
            app: Some("instagram".into()),
            os: "ios".into(),
            device_class: "mobile".into(),
            is_bot: false,
            bot_name: None,
            via: "link".into(),
            code: Some("SARAH20".into()),
            trigger: "qr".into(),
            rule: None,
            variant: Some("b".into()),
            ad_click_ids: Some(r#"{"fbclid":"Iw1"}"#.into()),
        }
    }

    #[test]
    fn statements_stay_within_the_parameter_limit() {
        assert_eq!(ROWS_PER_STATEMENT, 5);
        assert!(ROWS_PER_STATEMENT * CLICK_COLUMNS.len() <= MAX_BOUND_PARAMS);
        let sql = insert_sql(ROWS_PER_STATEMENT);
        assert!(sql.contains("?90)"), "{sql}");
        assert!(!sql.contains("?91"), "{sql}");
    }

    #[test]
    fn insert_sql_numbers_every_row() {
        let check = |rows: usize, expected: &str| assert_eq!(insert_sql(rows), expected);
        check(
            1,
            "INSERT INTO clicks (id, link_id, ts, visitor_id, ua_family, country, referer_host, app, os, \
             device_class, is_bot, bot_name, via, code, trigger, rule, variant, ad_click_ids) VALUES (?1, ?2, \
             ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) ON CONFLICT(id) DO NOTHING",
        );
        let two = insert_sql(2);
        assert!(two.contains("?18), (?19, ?20,"), "{two}");
        assert!(two.ends_with("?36) ON CONFLICT(id) DO NOTHING"), "{two}");
    }

    #[test]
    #[should_panic(expected = "insert_sql: 6 rows")]
    fn insert_sql_refuses_too_many_rows() {
        insert_sql(6);
    }

    #[test]
    fn params_follow_the_column_order() {
        let r = row("c1");
        let p = r.params();
        assert_eq!(p.len(), CLICK_COLUMNS.len());
        assert_eq!(p[0], Param::Text("c1"));
        assert_eq!(p[1], Param::Int(7));
        assert_eq!(p[5], Param::Text("DE"));
        assert_eq!(p[6], Param::Null);
        assert_eq!(p[10], Param::Int(0));
        assert_eq!(p[13], Param::Text("SARAH20"));
        assert_eq!(p[14], Param::Text("qr"));
        assert_eq!(p[15], Param::Null);
        assert_eq!(p[16], Param::Text("b"));
    }

    #[test]
    fn rows_from_before_the_trigger_column_still_decode() {
        let old = r#"{"id":"c","link_id":1,"ts":5,"visitor_id":"v","ua_family":"f","country":null,
            "referer_host":null,"app":null,"os":"ios","device_class":"mobile","is_bot":false,
            "bot_name":null,"via":"link","code":null}"#;
        let r: ClickRow = serde_json::from_str(old).unwrap();
        assert_eq!(
            (r.trigger.as_str(), r.rule, r.variant),
            ("link", None, None)
        );
    }

    #[test]
    fn rows_round_trip_through_json() {
        let rows = vec![row("a"), row("b")];
        let text = serde_json::to_string(&rows).unwrap();
        let back: Vec<ClickRow> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, rows);
    }

    #[test]
    fn ids_are_listed_in_order() {
        assert_eq!(ids(&[row("a"), row("b")]), "a,b");
        assert_eq!(ids(&[]), "");
    }

    #[test]
    fn spill_keys_sort_by_time() {
        let mut early = row("z");
        early.ts = 5;
        assert_eq!(spill_key(&[early.clone()]), "spill:clicks:0000000000005:z");
        assert!(spill_key(&[early]) < spill_key(&[row("a")]));
    }
}
