//! The journeys the attribution job sees, loaded in bulk: each pending
//! conversion's person (its own ids, then every id linked to them), and
//! that person's candidate touchpoints. `journeys_of` also serves the
//! journey endpoint, so it shows exactly what the job sees.

use crate::attribution::batch;
use crate::attribution::batch::{Candidate, Pending};
use crate::attribution::journey::{TouchKind, Touchpoint};
use crate::base::error::ApiError;
use crate::base::time::Millis;
use crate::config::Config;
use crate::edge::attribution::sql::{CANDIDATES_SQL, PERSON_KEYS_SQL};
use crate::edge::d1::{json_text, query, read, row, Meter};
use crate::ingest::identity;
use crate::ingest::identity::IdKind;
use std::collections::{BTreeMap, BTreeSet};
use worker::D1Database;

type Result<T> = std::result::Result<T, ApiError>;

row! {
    pub struct PendingRow {
        pub id: i64,
        pub occurred_at: Millis,
        pub revenue_minor: i64,
        pub currency: String,
        pub visitor_id: Option<String>,
        pub customer_id: Option<String>,
        pub email_sha256: Option<String>,
    }

    struct KeyRow {
        seed: String,
        key: String,
    }

    struct CandidateRow {
        key: String,
        kind: String,
        at: Millis,
        channel: String,
        influencer: Option<String>,
        campaign: Option<String>,
        link: Option<String>,
        content: Option<String>,
        platform: Option<String>,
        code: Option<String>,
        app: Option<String>,
        source: Option<String>,
        medium: Option<String>,
        visitor_id: Option<String>,
        customer_id: Option<String>,
        conversion_id: Option<i64>,
    }
}

/// The identity keys a conversion row carries itself.
pub fn own_keys(r: &PendingRow) -> Vec<String> {
    let mut k = Vec::new();
    if let Some(v) = &r.visitor_id {
        k.push(identity::key(IdKind::Visitor, v));
    }
    if let Some(c) = &r.customer_id {
        k.push(identity::key(IdKind::Customer, c));
    }
    if let Some(e) = &r.email_sha256 {
        k.push(identity::key(IdKind::Email, e));
    }
    k
}

/// Loads `rows`' persons and candidate touchpoints and builds their
/// journeys. Shared by the job and the journey endpoint.
pub async fn journeys_of(
    db: &D1Database,
    rows: &[(i64, Millis, i64, String, Vec<String>)],
    config: &Config,
    meter_out: Option<&mut usize>,
) -> Result<(Vec<Pending>, Vec<Vec<Touchpoint>>)> {
    let mut meter = Meter::default();
    let seeds: BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| r.4.iter().map(String::as_str))
        .collect();
    let expansions: Vec<KeyRow> = read(
        &mut meter,
        query!(db, PERSON_KEYS_SQL, json_text(&seeds)),
        "loading persons",
    )
    .await?;
    let mut person: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for e in &expansions {
        person
            .entry(e.seed.as_str())
            .or_default()
            .insert(e.key.clone());
    }
    let pending: Vec<Pending> = rows
        .iter()
        .map(|(id, at, revenue, currency, own)| {
            let mut keys: BTreeSet<String> = own.iter().cloned().collect();
            for k in own {
                keys.extend(person.get(k.as_str()).into_iter().flatten().cloned());
            }
            Pending {
                id: *id,
                occurred_at: *at,
                revenue_minor: *revenue,
                currency: currency.clone(),
                reporting_minor: None,
                keys,
            }
        })
        .collect();
    let all_keys: BTreeSet<&str> = pending
        .iter()
        .flat_map(|p| p.keys.iter().map(String::as_str))
        .collect();
    let visitors: Vec<&str> = all_keys
        .iter()
        .filter_map(|k| identity::value_of(k, IdKind::Visitor))
        .collect();
    let customers: Vec<&str> = all_keys
        .iter()
        .filter_map(|k| identity::value_of(k, IdKind::Customer))
        .collect();
    let ids: Vec<i64> = pending.iter().map(|p| p.id).collect();
    let until = pending.iter().map(|p| p.occurred_at).max().unwrap_or(0);
    let since = pending.iter().map(|p| p.occurred_at).min().unwrap_or(0)
        - config.attribution.journey.max_window();
    let candidates: Vec<CandidateRow> = read(
        &mut meter,
        query!(
            db,
            CANDIDATES_SQL,
            json_text(&visitors),
            json_text(&customers),
            since,
            until,
            json_text(&ids)
        ),
        "loading touchpoints",
    )
    .await?;
    let candidates: Vec<Candidate> = candidates
        .into_iter()
        .map(|r| {
            let mut keys = Vec::new();
            if let Some(v) = &r.visitor_id {
                keys.push(identity::key(IdKind::Visitor, v));
            }
            if let Some(c) = &r.customer_id {
                keys.push(identity::key(IdKind::Customer, c));
            }
            let kind = match r.kind.as_str() {
                "code" => TouchKind::Code,
                "channel" => TouchKind::Channel,
                _ => TouchKind::Click,
            };
            Candidate {
                touch: Touchpoint {
                    key: r.key,
                    kind,
                    at: r.at,
                    channel: r.channel,
                    influencer: r.influencer,
                    campaign: r.campaign,
                    link: r.link,
                    content: r.content,
                    platform: r.platform,
                    code: r.code,
                    app: r.app,
                    source: r.source,
                    medium: r.medium,
                    is_bot: false,
                },
                keys,
                conversion_id: r.conversion_id,
            }
        })
        .collect();
    let journeys = batch::journeys(&pending, &candidates, &config.attribution.journey);
    if let Some(out) = meter_out {
        *out += meter.read;
    }
    Ok((pending, journeys))
}
