//! The admin API of links and codes: create, read, patch, disable, list,
//! stats, QR codes, bulk edits and the link checks.

use crate::base::error::{ApiError, ParseError};
use crate::base::pagination::{next_cursor, Page};
use crate::base::route::Route;
use crate::config::Config;
use crate::edge::auth::Admin;
use crate::edge::http::{conflict, read_json, unavailable};
use crate::edge::links::cache::publish;
use crate::edge::links::codes::{check_code_owner, create_code};
use crate::edge::now;
use crate::links::bulk::{BulkAction, BulkEdit};
use crate::links::code::NewCode;
use crate::links::link::{LinkPatch, LinkRecord, LinkStatus, NewLink};
use crate::links::qr;
use crate::links::qr::QrOptions;
use crate::links::slug::{Slug, GENERATED_LEN};
use crate::links::utm_names::Tag;
use serde_json::json;
use url::form_urlencoded;
use worker::{D1Database, Env, Request, Response};

type Result<T> = std::result::Result<T, ApiError>;

/// Links one `POST /api/v1/links:check` checks at most (each is up to 4
/// agents × 10 hops of subrequests).
const MAX_CHECKS_PER_CALL: u32 = 10;

/// How often a generated slug is redrawn after a collision.
const SLUG_ATTEMPTS: usize = 5;

/// The admin API of links and codes.
pub async fn handle(mut req: Request, env: &Env, route: Route<'_>) -> Result<Response> {
    let Admin {
        db,
        config,
        query,
        origin,
    } = Admin::from_request(&req, env)?;
    let view = |r: &LinkRecord| {
        r.view(
            &config.short_base_for(r.domain.as_deref(), &origin),
            &config.store,
        )
    };
    match route {
        Route::CreateCode => {
            let body = NewCode::from_json(&read_json(&mut req).await?)?;
            create_code(&db, &body).await
        }
        Route::ListCodes => {
            let page = Page::from_query(&query)?;
            let (items, ids) = crate::edge::links::codes::list_codes(&db, page).await?;
            crate::edge::http::json(
                200,
                &json!({"codes": items, "next_cursor": next_cursor(&ids, page)}),
            )
        }
        Route::CreateLink => {
            let body = NewLink::from_json(&read_json(&mut req).await?)?;
            check_domain(&config, body.domain.as_deref())?;
            let record = create_link(&db, &body, &config).await?;
            publish(env, &config, &record).await?;
            crate::edge::http::json(201, &view(&record))
        }
        Route::ListLinks => {
            let page = Page::from_query(&query)?;
            let tag = form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "tag")
                .map(|(_, v)| Tag::parse(&v).map_err(|e| e.at("tag")))
                .transpose()?;
            let links = crate::edge::links::link_rows::list_links(&db, page, tag.as_ref()).await?;
            let ids: Vec<i64> = links.iter().map(|l| l.id).collect();
            let views: Vec<_> = links.iter().map(view).collect();
            crate::edge::http::json(
                200,
                &json!({"links": views, "next_cursor": next_cursor(&ids, page)}),
            )
        }
        Route::GetLink(slug) => crate::edge::http::json(200, &view(&find_link(&db, slug).await?)),
        Route::PatchLink(slug) => {
            let patch = LinkPatch::from_json(&read_json(&mut req).await?)?;
            let mut record = patch.apply(find_link(&db, slug).await?, now())?;
            check_domain(&config, record.domain.as_deref())?;
            record.category = record.effective_category(&config.categories);
            if let Some(code) = &record.discount_code {
                let owner = crate::edge::links::codes::link_influencer(&db, record.id).await?;
                check_code_owner(&db, code, owner).await?;
            }
            crate::edge::links::link_writes::update_link(&db, &record).await?;
            publish(env, &config, &record).await?;
            crate::edge::http::json(200, &view(&record))
        }
        Route::DeleteLink(slug) => {
            let mut record = find_link(&db, slug).await?;
            record.status = LinkStatus::Disabled;
            record.updated_at = now();
            crate::edge::links::link_writes::update_link(&db, &record).await?;
            publish(env, &config, &record).await?;
            crate::edge::http::json(200, &view(&record))
        }
        Route::LinkStats(slug) => {
            let record = find_link(&db, slug).await?;
            crate::edge::http::json(
                200,
                &crate::edge::traffic::stats::link_stats(&db, record.id).await?,
            )
        }
        Route::LinkQrSvg(slug) | Route::LinkQrPng(slug) => {
            let opts = QrOptions::from_query(&query)?;
            let record = find_link(&db, slug).await?;
            let text = qr::scan_url(&view(&record).short_url);
            let too_long = |e: ParseError| e.at("slug");
            let resp = if matches!(route, Route::LinkQrSvg(_)) {
                let r = Response::ok(qr::svg(&text, &opts).map_err(too_long)?);
                r.map(|r| (r, "image/svg+xml"))
            } else {
                let r = Response::from_bytes(qr::png(&text, &opts).map_err(too_long)?);
                r.map(|r| (r, "image/png"))
            };
            let (resp, ctype) = resp.map_err(unavailable("building the QR response"))?;
            let h = resp.headers();
            let _ = h.set("Content-Type", ctype);
            let _ = h.set("Cache-Control", "private, max-age=300");
            Ok(resp)
        }
        Route::CheckLink(slug) => {
            let record = find_link(&db, slug).await?;
            let short = view(&record).short_url;
            crate::edge::http::json(
                200,
                &crate::edge::links::check::check_link(&db, &config, &record, &short).await?,
            )
        }
        Route::LastCheck(slug) => {
            let record = find_link(&db, slug).await?;
            let Some((at, ok, reasons, results)) =
                crate::edge::links::check::load_link_check(&db, record.id).await?
            else {
                return Err(ApiError::NotFound { what: "check" });
            };
            let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap_or_default();
            crate::edge::http::json(
                200,
                &json!({"slug": record.slug.as_str(), "checked_at": crate::base::time::format_rfc3339(at),
                        "ok": ok, "reasons": parse(&reasons), "agents": parse(&results)}),
            )
        }
        Route::CheckLinks => {
            let limit =
                form_urlencoded::parse(query.as_bytes())
                    .find(|(k, _)| k == "limit")
                    .map(|(_, v)| {
                        v.parse::<u32>()
                            .ok()
                            .filter(|n| (1..=MAX_CHECKS_PER_CALL).contains(n))
                            .ok_or_else(|| {
                                ParseError::new(
                            "invalid_value",
                            format!("limit must be a whole number from 1 to {MAX_CHECKS_PER_CALL}"),
                        )
                        .at("limit")
                            })
                    })
                    .transpose()?
                    .unwrap_or(MAX_CHECKS_PER_CALL);
            // Every active link, those never checked or checked longest
            // ago first; call again for the next ones.
            let done =
                crate::edge::links::check::check_due(&db, &config, &origin, limit, 0).await?;
            let summary: Vec<_> = done
                .iter()
                .map(|c| json!({"slug": c.slug, "ok": c.ok, "reasons": c.reasons, "checked_at": c.checked_at}))
                .collect();
            crate::edge::http::json(200, &json!({"checked": summary}))
        }
        Route::BulkLinks => {
            let edit = BulkEdit::from_json(&read_json(&mut req).await?)?;
            let records = crate::edge::links::link_writes::bulk_edit(&db, &edit, now()).await?;
            // Tags are not in the redirect record; everything else is.
            if !matches!(edit.action, BulkAction::AddTag(_)) {
                for record in &records {
                    publish(env, &config, record).await?;
                }
            }
            let slugs: Vec<&str> = records.iter().map(|r| r.slug.as_str()).collect();
            crate::edge::http::json(
                200,
                &json!({"action": edit.action.as_str(), "affected": slugs.len(), "slugs": slugs}),
            )
        }
        _ => Err(ApiError::NotFound { what: "route" }),
    }
}

/// A link's `domain` must be one of `SHORT_DOMAINS`.
fn check_domain(config: &Config, domain: Option<&str>) -> Result<()> {
    match domain {
        Some(d) if config.short_domain(d).is_none() => Err(ParseError::new(
            "unknown_domain",
            format!("{d} is not one of SHORT_DOMAINS"),
        )
        .at("domain")),
        _ => Ok(()),
    }
}

async fn create_link(db: &D1Database, body: &NewLink, config: &Config) -> Result<LinkRecord> {
    let category = body
        .piece
        .product_category
        .clone()
        .or_else(|| config.categories.category_of(&body.destination));
    let (influencer_id, campaign_id) =
        crate::edge::links::link_writes::resolve_refs(db, &body.influencer, &body.campaign).await?;
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
    if let Some(code) = &body.discount_code {
        check_code_owner(db, code, Some(influencer_id)).await?;
    }
    for _ in 0..SLUG_ATTEMPTS {
        let slug = body
            .slug
            .clone()
            .unwrap_or_else(|| Slug::generate(crate::edge::random::bytes::<GENERATED_LEN>()));
        let refs = (influencer_id, campaign_id);
        if crate::edge::links::link_writes::insert_link(
            db,
            body,
            &slug,
            refs,
            category.as_ref(),
            now(),
        )
        .await?
        {
            return crate::edge::links::link_rows::load_link(db, &slug)
                .await?
                .ok_or(ApiError::Unavailable);
        }
        if body.slug.is_some() {
            return Err(conflict(
                "slug_taken",
                "slug",
                format!("slug '{slug}' is already in use"),
            ));
        }
    }
    Err(ApiError::Unavailable)
}

async fn find_link(db: &D1Database, raw: &str) -> Result<LinkRecord> {
    let slug = Slug::parse(raw).map_err(|_| ApiError::NotFound { what: "link" })?;
    crate::edge::links::link_rows::load_link(db, &slug)
        .await?
        .ok_or(ApiError::NotFound { what: "link" })
}
