//! `DELETE /api/v1/people/{id}`: erasing a person in one transaction
//! (identity links deleted, clicks moved to a new random visitor, ids
//! removed from conversions, touchpoints and events).

use crate::base::error::ApiError;
use crate::base::route::Route;
use crate::edge::auth::Admin;
use crate::edge::d1::{all, batch, json_text, query, row, stmt};
use crate::edge::ingest::sql::{
    ERASE_CLICKS_SQL, ERASE_CONVERSIONS_SQL, ERASE_EVENTS_SQL, ERASE_FIND_SQL,
    ERASE_IDENTITIES_SQL, ERASE_TOUCHPOINTS_SQL,
};
use crate::traffic::ids::{VisitorId, ID_BYTES};
use serde_json::json;
use worker::{D1Database, Env, Request, Response};

type Result<T> = std::result::Result<T, ApiError>;

/// What a data-subject erasure changed.
#[derive(Debug, Default, serde::Serialize)]
pub struct Erased {
    pub identities: usize,
    pub clicks: usize,
    pub conversions: usize,
    pub touchpoints: usize,
    pub events: usize,
}

/// Erases a person: `id` as a visitor or customer id, and every id
/// stitched to it. One transaction: identity links deleted; each visitor's
/// clicks moved to a new random visitor id (`fresh_visitor` draws one;
/// unique counts are unchanged, the link to the cookie is gone);
/// conversions and touchpoints lose their visitor, customer and email ids;
/// the person's storefront events are deleted.
/// Credits and rollups are untouched. Returns the persons found and what
/// changed.
pub async fn erase_person(
    db: &D1Database,
    id: &str,
    mut fresh_visitor: impl FnMut() -> String,
) -> Result<(usize, Erased)> {
    row! {
        struct KeyRow {
            key: String,
            person_id: String,
        }
    }
    let keys: Vec<KeyRow> = all(
        query!(db, ERASE_FIND_SQL, id),
        "reading the person's identities",
    )
    .await?;
    let mut persons: Vec<&str> = keys.iter().map(|k| k.person_id.as_str()).collect();
    persons.sort();
    persons.dedup();
    let key_list: Vec<String> = keys.iter().map(|k| k.key.clone()).collect();
    let plan = crate::ingest::identity::Erasure::plan(id, &key_list);
    // Storefront events: the snippet's own visitor id, or any click of the
    // person's visitors (before the clicks are moved to fresh ids).
    let mut writes = vec![stmt(
        query!(db, ERASE_EVENTS_SQL, id, json_text(&plan.visitors)),
        "binding event erasure",
    )?];
    for v in &plan.visitors {
        writes.push(stmt(
            query!(db, ERASE_CLICKS_SQL, v, fresh_visitor()),
            "binding click erasure",
        )?);
    }
    let (visitors, customers, emails) = (
        json_text(&plan.visitors),
        json_text(&plan.customers),
        json_text(&plan.emails),
    );
    writes.push(stmt(
        query!(db, ERASE_CONVERSIONS_SQL, &visitors, &customers, &emails),
        "binding conversion erasure",
    )?);
    writes.push(stmt(
        query!(db, ERASE_TOUCHPOINTS_SQL, &visitors, &customers),
        "binding touchpoint erasure",
    )?);
    writes.push(stmt(
        query!(db, ERASE_IDENTITIES_SQL, json_text(&persons), id),
        "binding identity erasure",
    )?);
    let results = batch(db, writes, "erasing a person").await?;
    let changes: Vec<usize> = results
        .iter()
        .map(|r| r.meta().changes.unwrap_or(0))
        .collect();
    let n = plan.visitors.len();
    let erased = Erased {
        events: changes[0],
        clicks: changes[1..=n].iter().sum(),
        conversions: changes[n + 1],
        touchpoints: changes[n + 2],
        identities: changes[n + 3],
    };
    Ok((persons.len(), erased))
}

/// `DELETE /api/v1/people/{id}`: the data-subject erasure.
pub async fn handle(req: Request, env: &Env, route: Route<'_>) -> Result<Response> {
    let Admin { db, .. } = Admin::from_request(&req, env)?;
    match route {
        Route::ErasePerson(raw) => {
            let id = crate::base::route::decode_segment(raw);
            if id.is_empty() || id.len() > 256 || id.chars().any(char::is_control) {
                return Err(ApiError::NotFound { what: "person" });
            }
            let (persons, erased) = crate::edge::ingest::erasure::erase_person(&db, &id, || {
                VisitorId::from_random(crate::edge::random::bytes::<ID_BYTES>())
                    .as_str()
                    .to_owned()
            })
            .await?;
            let total = erased.identities
                + erased.clicks
                + erased.conversions
                + erased.touchpoints
                + erased.events;
            if total == 0 {
                return Err(ApiError::NotFound { what: "person" });
            }
            crate::edge::http::json(
                200,
                &json!({"id": id, "persons": persons, "erased": erased}),
            )
        }
        _ => Err(ApiError::NotFound { what: "route" }),
    }
}
