//! The shell's handlers replayed against SQLite: the same statements, in
//! the same order, bound to the same parameters, with the core doing the
//! planning (identity links, erasure plans). Each function names the
//! handler it mirrors; a D1 batch is one transaction here.

use crate::attribution_sql::{CANDIDATES_SQL, PERSON_KEYS_SQL};
use crate::ingest_sql::{
    identity_insert_sql, identity_merge_sql, mark_dirty_sql, CLICK_VISITOR_SQL, CONVERSION_GUARD,
    CONVERSION_IDENTITIES_SQL, CONVERSION_INSERT_SQL, ERASE_CLICKS_SQL, ERASE_CONVERSIONS_SQL,
    ERASE_EVENTS_SQL, ERASE_FIND_SQL, ERASE_IDENTITIES_SQL, ERASE_TOUCHPOINTS_SQL, IDENTITIES_SQL,
    TOUCHPOINT_GUARD, TOUCHPOINT_INSERT_SQL,
};
use crate::test_db::{exec, json_text, rows, Order};
use linkcredit::attribution::journey::JourneyConfig;
use linkcredit::base::time::DAY;
use linkcredit::ingest::identity::{self, Erasure, IdKind, LinkPlan};
use rusqlite::{params, Connection};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// `identities::keys_of`: the identity keys an event carries.
pub fn keys_of(visitor: Option<&str>, customer: Option<&str>, email: Option<&str>) -> Vec<String> {
    let mut keys = Vec::new();
    for (kind, v) in [
        (IdKind::Visitor, visitor),
        (IdKind::Customer, customer),
        (IdKind::Email, email),
    ] {
        if let Some(v) = v {
            keys.push(identity::key(kind, v));
        }
    }
    keys
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let s = |i: usize| r[i].as_str().expect("text").to_owned();
            (s(0), s(1))
        })
        .collect()
}

/// `identities::plan_statements`.
fn plan_statements(db: &Connection, plan: &LinkPlan, now: i64, guard: &str, args: (&str, &str)) {
    for key in &plan.insert {
        exec(
            db,
            &identity_insert_sql(guard),
            params![args.0, args.1, key, plan.person, now],
        );
    }
    if !plan.merge.is_empty() {
        exec(
            db,
            &identity_merge_sql(guard),
            params![args.0, args.1, plan.person, json_text(&plan.merge), now],
        );
    }
}

/// `identities::mark_dirty`: the conversions it marked.
fn mark_dirty(
    db: &Connection,
    keys: &[String],
    span: (i64, i64),
    guard: &str,
    args: (&str, &str),
) -> usize {
    exec(
        db,
        &mark_dirty_sql(guard),
        params![args.0, args.1, json_text(keys), span.0, span.1],
    )
}

/// An other-channel touchpoint (`channel`, `source`, `medium`).
pub struct Touch<'a> {
    pub at: i64,
    pub channel: &'a str,
    pub source: Option<&'a str>,
    pub medium: Option<&'a str>,
    pub visitor: Option<&'a str>,
    pub customer: Option<&'a str>,
}

/// `touchpoints::ingest_touchpoint`: the conversions it marked dirty.
pub fn ingest_touchpoint(db: &Connection, t: &Touch<'_>, now: i64) -> usize {
    let keys = keys_of(t.visitor, t.customer, None);
    let known = pairs(&rows(db, IDENTITIES_SQL, params![json_text(&keys)]));
    let tx = db.unchecked_transaction().expect("batch");
    exec(
        &tx,
        TOUCHPOINT_INSERT_SQL,
        params![
            t.at,
            t.channel,
            t.source,
            t.medium,
            None::<&str>,
            t.visitor,
            t.customer,
            now
        ],
    );
    if let Some(plan) = identity::plan(&keys, &known) {
        plan_statements(&tx, &plan, now, TOUCHPOINT_GUARD, ("1", "1"));
    }
    let reach = JourneyConfig::default().max_window().max(365 * DAY);
    let marked = mark_dirty(
        &tx,
        &keys,
        (t.at, t.at + reach),
        TOUCHPOINT_GUARD,
        ("1", "1"),
    );
    tx.commit().expect("commit");
    marked
}

/// `conversions::ingest_conversion`'s reads and write batch (no promo
/// codes), with `fingerprint` as this request's payload: the batch a
/// request runs once its reads found no stored order, as two racing
/// requests both may. The conversions it marked dirty.
pub fn store_conversion(db: &Connection, o: &Order<'_>, fingerprint: &str, now: i64) -> usize {
    let direct = keys_of(o.visitor, o.customer, o.email);
    let click_visitor = rows(db, CLICK_VISITOR_SQL, params![o.click_id]);
    let click_visitor = click_visitor[0]
        .get(0)
        .and_then(Value::as_str)
        .map(str::to_owned);
    let known = pairs(&rows(
        db,
        CONVERSION_IDENTITIES_SQL,
        params![json_text(&direct), o.click_id],
    ));
    let visitor = o
        .visitor
        .map(str::to_owned)
        .or_else(|| click_visitor.clone());
    let mut keys = direct;
    if let Some(cv) = &click_visitor {
        let k = identity::key(IdKind::Visitor, cv);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let plan = identity::plan(&keys, &known);
    let tx = db.unchecked_transaction().expect("batch");
    exec(
        &tx,
        CONVERSION_INSERT_SQL,
        params![
            o.order_id,
            o.at,
            o.revenue_minor,
            "EUR",
            o.click_id,
            visitor,
            o.customer,
            o.email,
            "[]",
            None::<&str>,
            "api",
            fingerprint,
            now
        ],
    );
    let mut marked = 0;
    if let Some(plan) = &plan {
        let args = (o.order_id, fingerprint);
        plan_statements(&tx, plan, now, CONVERSION_GUARD, args);
        marked = mark_dirty(&tx, &keys, (0, o.at), CONVERSION_GUARD, args);
    }
    tx.commit().expect("commit");
    marked
}

/// What `erasure::erase_person` reports.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Erased {
    pub identities: usize,
    pub clicks: usize,
    pub conversions: usize,
    pub touchpoints: usize,
    pub events: usize,
}

/// `erasure::erase_person`: the persons found and what changed.
pub fn erase_person(
    db: &Connection,
    id: &str,
    mut fresh: impl FnMut() -> String,
) -> (usize, Erased) {
    let keys = pairs(&rows(db, ERASE_FIND_SQL, params![id]));
    let mut persons: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    persons.sort();
    persons.dedup();
    let key_list: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
    let plan = Erasure::plan(id, &key_list);
    let tx = db.unchecked_transaction().expect("batch");
    let events = exec(
        &tx,
        ERASE_EVENTS_SQL,
        params![id, json_text(&plan.visitors)],
    );
    let clicks = plan
        .visitors
        .iter()
        .map(|v| exec(&tx, ERASE_CLICKS_SQL, params![v, fresh()]))
        .sum();
    let (visitors, customers, emails) = (
        json_text(&plan.visitors),
        json_text(&plan.customers),
        json_text(&plan.emails),
    );
    let conversions = exec(
        &tx,
        ERASE_CONVERSIONS_SQL,
        params![&visitors, &customers, &emails],
    );
    let touchpoints = exec(&tx, ERASE_TOUCHPOINTS_SQL, params![&visitors, &customers]);
    let identities = exec(&tx, ERASE_IDENTITIES_SQL, params![json_text(&persons), id]);
    tx.commit().expect("commit");
    let erased = Erased {
        identities,
        clicks,
        conversions,
        touchpoints,
        events,
    };
    (persons.len(), erased)
}

/// A pending conversion as `journeys_of` takes it: id, time, own keys.
pub struct Pending {
    pub id: i64,
    pub at: i64,
    pub own: Vec<String>,
}

/// `journeys::journeys_of`'s two reads: each conversion's person keys
/// (own keys and every key linked to them) and the batch's candidate rows.
pub fn journey_reads(
    db: &Connection,
    batch: &[Pending],
    cfg: &JourneyConfig,
) -> (Vec<BTreeSet<String>>, Value) {
    let seeds: BTreeSet<&str> = batch
        .iter()
        .flat_map(|p| p.own.iter().map(String::as_str))
        .collect();
    let expansions = pairs(&rows(db, PERSON_KEYS_SQL, params![json_text(&seeds)]));
    let mut person: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (seed, key) in &expansions {
        person.entry(seed.as_str()).or_default().insert(key.clone());
    }
    let keys: Vec<BTreeSet<String>> = batch
        .iter()
        .map(|p| {
            let mut keys: BTreeSet<String> = p.own.iter().cloned().collect();
            for k in &p.own {
                keys.extend(person.get(k.as_str()).into_iter().flatten().cloned());
            }
            keys
        })
        .collect();
    let all: BTreeSet<&str> = keys.iter().flatten().map(String::as_str).collect();
    let visitors: Vec<&str> = all
        .iter()
        .filter_map(|k| identity::value_of(k, IdKind::Visitor))
        .collect();
    let customers: Vec<&str> = all
        .iter()
        .filter_map(|k| identity::value_of(k, IdKind::Customer))
        .collect();
    let ids: Vec<i64> = batch.iter().map(|p| p.id).collect();
    let until = batch.iter().map(|p| p.at).max().unwrap_or(0);
    let since = batch.iter().map(|p| p.at).min().unwrap_or(0) - cfg.max_window();
    let candidates = rows(
        db,
        CANDIDATES_SQL,
        params![
            json_text(&visitors),
            json_text(&customers),
            since,
            until,
            json_text(&ids)
        ],
    );
    (keys, candidates)
}
