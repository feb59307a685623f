//! The admin API: influencers, campaigns, codes and links. Every route needs
//! `Authorization: Bearer $ADMIN_TOKEN`.

use super::http::{self, read_json, unavailable};
use super::{auth, cache, check, config, now, payouts, random, sheet, store, DB, LINKS_KV};
use crate::base::error::{ApiError, ParseError};
use crate::base::pagination::{next_cursor, Page};
use crate::base::route::Route;
use crate::config::Config;
use crate::links::bulk::{BulkAction, BulkEdit};
use crate::links::code::{NewCode, PromoCode};
use crate::links::link::{LinkPatch, LinkRecord, LinkStatus, NewLink};
use crate::links::qr::{self, QrOptions};
use crate::links::slug::{Slug, GENERATED_LEN};
use crate::links::utm_names::Handle;
use crate::links::utm_names::Tag;
use crate::roster::influencers::{
    InfluencerView, NewCampaign, NewInfluencer, ProfilePatch, PROFILE_FIELDS,
};
use crate::traffic::ids::{VisitorId, ID_BYTES};
use serde_json::json;
use url::form_urlencoded;
use worker::{D1Database, Env, Request, Response};

type Result<T> = std::result::Result<T, ApiError>;

/// Links one `POST /api/v1/links:check` checks at most (each is up to 4
/// agents × 10 hops of subrequests).
const MAX_CHECKS_PER_CALL: u32 = 10;

/// How often a generated slug is redrawn after a collision.
const SLUG_ATTEMPTS: usize = 5;

pub async fn handle(mut req: Request, env: &Env, route: Route<'_>) -> Result<Response> {
    auth::require_bearer(&req, env, "ADMIN_TOKEN")?;
    let db = env.d1(DB).map_err(unavailable("D1 binding"))?;
    let url = req.url().ok();
    let query = url
        .as_ref()
        .and_then(|u| u.query())
        .unwrap_or("")
        .to_owned();
    let config = config(env);
    let origin = url
        .as_ref()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let view = |r: &LinkRecord| {
        r.view(
            &config.short_base_for(r.domain.as_deref(), &origin),
            &config.store,
        )
    };
    match route {
        Route::CreateInfluencer => {
            let currency = config.reporting_currency;
            let body = NewInfluencer::from_json(&read_json(&mut req).await?, currency)?;
            let now = now();
            if store::insert_influencer(&db, &body, now).await? {
                let view = InfluencerView::new(
                    body.handle.as_str().to_owned(),
                    &body.profile,
                    &config.tiers,
                    now,
                );
                http::json(201, &view)
            } else {
                Err(conflict(
                    "handle_taken",
                    "handle",
                    format!("influencer '{}' already exists", body.handle),
                ))
            }
        }
        Route::GetInfluencer(raw) | Route::PatchInfluencer(raw) => {
            let currency = config.reporting_currency;
            let handle =
                Handle::parse(raw).map_err(|_| ApiError::NotFound { what: "influencer" })?;
            let (mut profile, created_at) = store::load_influencer(&db, &handle, currency)
                .await?
                .ok_or(ApiError::NotFound { what: "influencer" })?;
            if matches!(route, Route::PatchInfluencer(_)) {
                let body = read_json(&mut req).await?;
                body.deny_unknown(PROFILE_FIELDS)?;
                if body.is_empty() {
                    return Err(ApiError::invalid(
                        "empty_patch",
                        format!("give at least one of: {}", PROFILE_FIELDS.join(", ")),
                    ));
                }
                profile = ProfilePatch::from_json(&body, currency)?.apply(profile)?;
                store::update_influencer(&db, &handle, &profile).await?;
            }
            let view = InfluencerView::new(
                handle.as_str().to_owned(),
                &profile,
                &config.tiers,
                created_at,
            );
            http::json(200, &view)
        }
        Route::ListInfluencers => {
            let page = Page::from_query(&query)?;
            let (items, ids) =
                store::list_influencers(&db, page, config.reporting_currency, &config.tiers)
                    .await?;
            http::json(
                200,
                &json!({"influencers": items, "next_cursor": next_cursor(&ids, page)}),
            )
        }
        Route::CreateCampaign => {
            let body = NewCampaign::from_json(&read_json(&mut req).await?)?;
            match store::insert_campaign(&db, &body, now()).await? {
                Some(view) => http::json(201, &view),
                None => Err(conflict(
                    "slug_taken",
                    "slug",
                    format!("campaign '{}' already exists", body.slug),
                )),
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
        Route::CreateCode => {
            let body = NewCode::from_json(&read_json(&mut req).await?)?;
            create_code(&db, &body).await
        }
        Route::ListCodes => {
            let page = Page::from_query(&query)?;
            let (items, ids) = store::list_codes(&db, page).await?;
            http::json(
                200,
                &json!({"codes": items, "next_cursor": next_cursor(&ids, page)}),
            )
        }
        Route::CreateLink => {
            let body = NewLink::from_json(&read_json(&mut req).await?)?;
            check_domain(&config, body.domain.as_deref())?;
            let record = create_link(&db, &body, &config).await?;
            publish(env, &config, &record).await?;
            http::json(201, &view(&record))
        }
        Route::ListLinks => {
            let page = Page::from_query(&query)?;
            let tag = form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "tag")
                .map(|(_, v)| Tag::parse(&v).map_err(|e| e.at("tag")))
                .transpose()?;
            let links = store::list_links(&db, page, tag.as_ref()).await?;
            let ids: Vec<i64> = links.iter().map(|l| l.id).collect();
            let views: Vec<_> = links.iter().map(view).collect();
            http::json(
                200,
                &json!({"links": views, "next_cursor": next_cursor(&ids, page)}),
            )
        }
        Route::GetLink(slug) => http::json(200, &view(&find_link(&db, slug).await?)),
        Route::PatchLink(slug) => {
            let patch = LinkPatch::from_json(&read_json(&mut req).await?)?;
            let mut record = patch.apply(find_link(&db, slug).await?, now())?;
            check_domain(&config, record.domain.as_deref())?;
            record.category = record.effective_category(&config.categories);
            if let Some(code) = &record.discount_code {
                let owner = store::link_influencer(&db, record.id).await?;
                check_code_owner(&db, code, owner).await?;
            }
            store::update_link(&db, &record).await?;
            publish(env, &config, &record).await?;
            http::json(200, &view(&record))
        }
        Route::DeleteLink(slug) => {
            let mut record = find_link(&db, slug).await?;
            record.status = LinkStatus::Disabled;
            record.updated_at = now();
            store::update_link(&db, &record).await?;
            publish(env, &config, &record).await?;
            http::json(200, &view(&record))
        }
        Route::LinkStats(slug) => {
            let record = find_link(&db, slug).await?;
            http::json(200, &store::link_stats(&db, record.id).await?)
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
        Route::ErasePerson(raw) => {
            let id = crate::base::route::decode_segment(raw);
            if id.is_empty() || id.len() > 256 || id.chars().any(char::is_control) {
                return Err(ApiError::NotFound { what: "person" });
            }
            let (persons, erased) = store::erase_person(&db, &id, || {
                VisitorId::from_random(random::bytes::<ID_BYTES>())
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
            http::json(
                200,
                &json!({"id": id, "persons": persons, "erased": erased}),
            )
        }
        Route::CheckLink(slug) => {
            let record = find_link(&db, slug).await?;
            let short = view(&record).short_url;
            http::json(
                200,
                &check::check_link(&db, &config, &record, &short).await?,
            )
        }
        Route::LastCheck(slug) => {
            let record = find_link(&db, slug).await?;
            let Some((at, ok, reasons, results)) = store::load_link_check(&db, record.id).await?
            else {
                return Err(ApiError::NotFound { what: "check" });
            };
            let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap_or_default();
            http::json(
                200,
                &json!({"slug": record.slug.as_str(), "checked_at": crate::base::time::format_rfc3339(at),
                        "ok": ok, "reasons": parse(&reasons), "agents": parse(&results)}),
            )
        }
        Route::ImportCsv => {
            let dry_run = form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "dry_run")
                .map(|(_, v)| match v.as_ref() {
                    "true" | "1" => Ok(true),
                    "false" | "0" => Ok(false),
                    _ => Err(
                        ParseError::new("invalid_value", "dry_run must be true or false")
                            .at("dry_run"),
                    ),
                })
                .transpose()?
                .unwrap_or(false);
            let text = http::read_csv(&mut req).await?;
            sheet::import(env, &db, &config, &text, dry_run).await
        }
        Route::Payouts => {
            let (v, csv) = payouts::get(&db, &config, &query).await?;
            let wants_csv =
                form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == "format" && v == "csv");
            if wants_csv {
                let resp = Response::ok(csv).map_err(unavailable("building the payout CSV"))?;
                let _ = resp
                    .headers()
                    .set("Content-Type", "text/csv; charset=utf-8");
                Ok(resp)
            } else {
                http::json(200, &v)
            }
        }
        Route::ClosePayout(period) => {
            http::json(200, &payouts::close(&db, &config, period, &query).await?)
        }
        Route::ExportLinks => {
            let text = sheet::links_csv(&db, &config, &origin).await?;
            let resp = Response::ok(text).map_err(unavailable("building the export"))?;
            let h = resp.headers();
            let _ = h.set("Content-Type", "text/csv; charset=utf-8");
            let _ = h.set("Content-Disposition", "attachment; filename=\"links.csv\"");
            let _ = h.set("Cache-Control", "private, no-store");
            Ok(resp)
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
            let done = check::check_due(&db, &config, &origin, limit, 0).await?;
            let summary: Vec<_> = done
                .iter()
                .map(|c| json!({"slug": c.slug, "ok": c.ok, "reasons": c.reasons, "checked_at": c.checked_at}))
                .collect();
            http::json(200, &json!({"checked": summary}))
        }
        Route::BulkLinks => {
            let edit = BulkEdit::from_json(&read_json(&mut req).await?)?;
            let records = store::bulk_edit(&db, &edit, now()).await?;
            // Tags are not in the redirect record; everything else is.
            if !matches!(edit.action, BulkAction::AddTag(_)) {
                for record in &records {
                    publish(env, &config, record).await?;
                }
            }
            let slugs: Vec<&str> = records.iter().map(|r| r.slug.as_str()).collect();
            http::json(
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

fn conflict(code: &'static str, field: &str, message: String) -> ApiError {
    ApiError::Conflict {
        code,
        message,
        field: Some(field.to_owned()),
    }
}

async fn create_link(db: &D1Database, body: &NewLink, config: &Config) -> Result<LinkRecord> {
    let category = body
        .piece
        .product_category
        .clone()
        .or_else(|| config.categories.category_of(&body.destination));
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
    if let Some(code) = &body.discount_code {
        check_code_owner(db, code, Some(influencer_id)).await?;
    }
    for _ in 0..SLUG_ATTEMPTS {
        let slug = body
            .slug
            .clone()
            .unwrap_or_else(|| Slug::generate(random::bytes::<GENERATED_LEN>()));
        let refs = (influencer_id, campaign_id);
        if store::insert_link(db, body, &slug, refs, category.as_ref(), now()).await? {
            return store::load_link(db, &slug)
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

/// A link's `discount_code` must be a registered code of its influencer.
async fn check_code_owner(
    db: &D1Database,
    code: &PromoCode,
    influencer_id: Option<i64>,
) -> Result<()> {
    match store::code_owner(db, code).await? {
        None => Err(ParseError::new(
            "unknown_code",
            format!("code {code} is not registered; POST /api/v1/codes first"),
        )
        .at("discount_code")),
        Some(owner) if Some(owner) != influencer_id => Err(ParseError::new(
            "code_of_other_influencer",
            format!("code {code} belongs to another influencer"),
        )
        .at("discount_code")),
        Some(_) => Ok(()),
    }
}

async fn create_code(db: &D1Database, body: &NewCode) -> Result<Response> {
    let refs = store::code_refs(db, body).await?;
    let influencer_id = refs.influencer_id.ok_or_else(|| {
        ParseError::new(
            "unknown_influencer",
            format!("no influencer with handle '{}'", body.influencer),
        )
        .at("influencer")
    })?;
    let campaign_id = match &body.campaign {
        None => None,
        Some(c) => Some(refs.campaign_id.ok_or_else(|| {
            ParseError::new("unknown_campaign", format!("no campaign with slug '{c}'"))
                .at("campaign")
        })?),
    };
    let link_id = match (&body.link, refs.link) {
        (None, _) => None,
        (Some(slug), None) => {
            return Err(
                ParseError::new("unknown_link", format!("no link with slug '{slug}'")).at("link"),
            );
        }
        (Some(slug), Some((_, owner))) if owner != influencer_id => {
            return Err(ParseError::new(
                "link_of_other_influencer",
                format!("link '{slug}' belongs to another influencer"),
            )
            .at("link"));
        }
        (Some(_), Some((id, _))) => Some(id),
    };
    match store::insert_code(db, body, influencer_id, campaign_id, link_id, now()).await? {
        Some(view) => http::json(201, &view),
        None => Err(conflict(
            "code_taken",
            "code",
            format!("code {} already exists", body.code),
        )),
    }
}

async fn find_link(db: &D1Database, raw: &str) -> Result<LinkRecord> {
    let slug = Slug::parse(raw).map_err(|_| ApiError::NotFound { what: "link" })?;
    store::load_link(db, &slug)
        .await?
        .ok_or(ApiError::NotFound { what: "link" })
}

/// Writes the link's redirect record to KV, before answering, so the new
/// state is what the next redirect sees.
pub(super) async fn publish(env: &Env, config: &Config, record: &LinkRecord) -> Result<()> {
    let kv = env.kv(LINKS_KV).map_err(unavailable("KV binding"))?;
    cache::put(
        &kv,
        &record.slug,
        &record.cached(&config.store),
        super::now(),
    )
    .await
    .map_err(unavailable("writing the link cache"))
}
