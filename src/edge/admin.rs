//! The admin API: influencers, campaigns and links. Every route needs
//! `Authorization: Bearer $ADMIN_TOKEN`.

use super::http::{self, read_json, unavailable};
use super::{auth, cache, now, random, store, DB, LINKS_KV};
use crate::error::{ApiError, ParseError};
use crate::link::{LinkPatch, LinkRecord, LinkStatus, NewLink};
use crate::page::{next_cursor, Page};
use crate::roster::{NewCampaign, NewInfluencer};
use crate::route::Route;
use crate::slug::{Slug, GENERATED_LEN};
use serde_json::json;
use worker::{D1Database, Env, Request, Response};

type Result<T> = std::result::Result<T, ApiError>;

/// How often a generated slug is redrawn after a collision.
const SLUG_ATTEMPTS: usize = 5;

pub async fn handle(mut req: Request, env: &Env, route: Route<'_>) -> Result<Response> {
    auth::require_bearer(&req, env, "ADMIN_TOKEN")?;
    let db = env.d1(DB).map_err(unavailable("D1 binding"))?;
    let query = req
        .url()
        .ok()
        .and_then(|u| u.query().map(str::to_owned))
        .unwrap_or_default();
    match route {
        Route::CreateInfluencer => {
            let body = NewInfluencer::from_json(&read_json(&mut req).await?)?;
            match store::insert_influencer(&db, &body, now()).await? {
                Some(view) => http::json(201, &view),
                None => Err(ApiError::Conflict {
                    code: "handle_taken",
                    message: format!("influencer '{}' already exists", body.handle),
                    field: Some("handle".into()),
                }),
            }
        }
        Route::ListInfluencers => {
            let page = Page::from_query(&query)?;
            let (items, ids) = store::list_influencers(&db, page).await?;
            http::json(
                200,
                &json!({"influencers": items, "next_cursor": next_cursor(&ids, page)}),
            )
        }
        Route::CreateCampaign => {
            let body = NewCampaign::from_json(&read_json(&mut req).await?)?;
            match store::insert_campaign(&db, &body, now()).await? {
                Some(view) => http::json(201, &view),
                None => Err(ApiError::Conflict {
                    code: "slug_taken",
                    message: format!("campaign '{}' already exists", body.slug),
                    field: Some("slug".into()),
                }),
            }
        }
        Route::ListCampaigns => {
            let page = Page::from_query(&query)?;
            let (items, ids) = store::list_campaigns(&db, page).await?;
            http::json(
                200,
                &json!({"campaigns": items, "next_cursor": next_cursor(&ids, page)}),
            )
        }
        Route::CreateLink => {
            let body = NewLink::from_json(&read_json(&mut req).await?)?;
            let record = create_link(&db, &body).await?;
            publish(env, &record).await?;
            http::json(201, &record.view(&short_base(env, &req)))
        }
        Route::ListLinks => {
            let page = Page::from_query(&query)?;
            let links = store::list_links(&db, page).await?;
            let ids: Vec<i64> = links.iter().map(|l| l.id).collect();
            let base = short_base(env, &req);
            let views: Vec<_> = links.iter().map(|l| l.view(&base)).collect();
            http::json(
                200,
                &json!({"links": views, "next_cursor": next_cursor(&ids, page)}),
            )
        }
        Route::GetLink(slug) => {
            let record = find_link(&db, slug).await?;
            http::json(200, &record.view(&short_base(env, &req)))
        }
        Route::PatchLink(slug) => {
            let patch = LinkPatch::from_json(&read_json(&mut req).await?)?;
            let record = patch.apply(find_link(&db, slug).await?, now());
            store::update_link(&db, &record).await?;
            publish(env, &record).await?;
            http::json(200, &record.view(&short_base(env, &req)))
        }
        Route::DeleteLink(slug) => {
            let mut record = find_link(&db, slug).await?;
            record.status = LinkStatus::Disabled;
            record.updated_at = now();
            store::update_link(&db, &record).await?;
            publish(env, &record).await?;
            http::json(200, &record.view(&short_base(env, &req)))
        }
        Route::LinkStats(slug) => {
            let record = find_link(&db, slug).await?;
            http::json(200, &store::link_stats(&db, record.id).await?)
        }
        _ => Err(ApiError::NotFound { what: "route" }),
    }
}

async fn create_link(db: &D1Database, body: &NewLink) -> Result<LinkRecord> {
    let (influencer_id, campaign_id) =
        store::resolve_refs(db, &body.influencer, &body.campaign).await?;
    let influencer_id = influencer_id.ok_or_else(|| {
        ParseError::new(
            "unknown_influencer",
            format!("no influencer with handle '{}'", body.influencer),
        )
        .at("influencer")
    })?;
    let campaign_id = campaign_id.ok_or_else(|| {
        ParseError::new(
            "unknown_campaign",
            format!("no campaign with slug '{}'", body.campaign),
        )
        .at("campaign")
    })?;
    for _ in 0..SLUG_ATTEMPTS {
        let slug = body
            .slug
            .clone()
            .unwrap_or_else(|| Slug::generate(random::bytes::<GENERATED_LEN>()));
        if store::insert_link(db, body, &slug, influencer_id, campaign_id, now())
            .await?
            .is_some()
        {
            return store::load_link(db, &slug)
                .await?
                .ok_or(ApiError::Unavailable);
        }
        if body.slug.is_some() {
            return Err(ApiError::Conflict {
                code: "slug_taken",
                message: format!("slug '{slug}' is already in use"),
                field: Some("slug".into()),
            });
        }
    }
    Err(ApiError::Unavailable)
}

async fn find_link(db: &D1Database, raw: &str) -> Result<LinkRecord> {
    let slug = Slug::parse(raw).map_err(|_| ApiError::NotFound { what: "link" })?;
    store::load_link(db, &slug)
        .await?
        .ok_or(ApiError::NotFound { what: "link" })
}

/// Writes the link's redirect record to KV, before answering, so the new
/// state is what the next redirect sees.
async fn publish(env: &Env, record: &LinkRecord) -> Result<()> {
    let kv = env.kv(LINKS_KV).map_err(unavailable("KV binding"))?;
    cache::put(&kv, &record.slug, &record.cached())
        .await
        .map_err(unavailable("writing the link cache"))
}

/// The base of short URLs: `SHORT_BASE_URL`, or this request's origin.
fn short_base(env: &Env, req: &Request) -> String {
    env.var("SHORT_BASE_URL")
        .map(|v| v.to_string())
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| req.url().ok().map(|u| u.origin().ascii_serialization()))
        .unwrap_or_default()
}
