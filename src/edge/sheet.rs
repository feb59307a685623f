//! The spreadsheet workflow's shell: the CSV import (`POST /api/v1/import`,
//! planned by [`crate::roster::import`], written in one D1 batch) and the master
//! spreadsheet export (`GET /api/v1/export/links.csv`, built by
//! [`crate::roster::export`]).

use super::reports::reporting_costs;
use super::rows::{query, row};
use super::store::{self, all, stmt};
use crate::base::error::ApiError;
use crate::base::money::{Currency, Money};
use crate::base::time;
use crate::config::Config;
use crate::links::bulk::BULK_MAX;
use crate::links::code::PromoCode;
use crate::links::link::LinkRecord;
use crate::links::slug::{Slug, GENERATED_LEN};
use crate::links::utm_names::{CampaignSlug, Handle};
use crate::roster::export::{self, ExportRow};
use crate::roster::import::{self, Action, ExistingLink, PlannedLink, RowError, Snapshot};
use crate::roster::influencers::{format_percent, Profile, Tiers};
use serde_json::{json, Value};
use worker::{D1Database, Response};

type Result<T> = std::result::Result<T, ApiError>;

row! {
    struct MetricRow {
        id: i64,
        clicks: i64,
        unique_clicks: i64,
        micros: i64,
        revenue: i64,
        checked_at: Option<i64>,
        check_ok: Option<i64>,
        check_reasons: Option<String>,
    }
}

/// The influencer columns of the spreadsheet (`handle` … `contract_end`).
fn profile_columns(handle: &str, p: &Profile) -> [String; 11] {
    let c = &p.contract;
    let money = |m: &Option<Money>| m.as_ref().map(Money::major).unwrap_or_default();
    [
        handle.to_owned(),
        p.name.clone().unwrap_or_default(),
        p.platform
            .map(|x| x.as_str().to_owned())
            .unwrap_or_default(),
        p.follower_count.map(|f| f.to_string()).unwrap_or_default(),
        p.niche
            .as_ref()
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default(),
        p.contact_email.clone().unwrap_or_default(),
        money(&c.base_fee),
        money(&c.bonus_per_conversion),
        c.revenue_share_bp.map(format_percent).unwrap_or_default(),
        c.start.map(time::format_date).unwrap_or_default(),
        c.end.map(time::format_date).unwrap_or_default(),
    ]
}

/// One link's text columns (up to `last_check`).
fn link_columns(
    l: &LinkRecord,
    profile: &Profile,
    tiers: &Tiers,
    short_url: String,
    tracking_url: String,
    check: &MetricRow,
) -> Vec<String> {
    let mut text: Vec<String> = profile_columns(l.influencer.as_str(), profile).into();
    let tags: Vec<&str> = l.tags.iter().map(|t| t.as_str()).collect();
    let last_check = match (check.check_ok, &check.check_reasons) {
        (Some(1), _) => "ok".to_owned(),
        (Some(_), Some(r)) => serde_json::from_str::<Vec<String>>(r)
            .map(|v| v.join(";"))
            .unwrap_or_default(),
        _ => String::new(),
    };
    text.extend([
        l.campaign.as_str().to_owned(),
        l.slug.as_str().to_owned(),
        l.destination.as_str().to_owned(),
        l.piece
            .format
            .map(|f| f.as_str().to_owned())
            .unwrap_or_default(),
        l.piece
            .posted_at
            .map(time::format_rfc3339)
            .unwrap_or_default(),
        l.piece
            .product_category
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        l.discount_code
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        l.discount
            .style
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        tags.join(";"),
        profile
            .follower_count
            .map(|f| tiers.tier(f).to_owned())
            .unwrap_or_default(),
        short_url,
        tracking_url,
        l.status.as_str().to_owned(),
        check
            .checked_at
            .map(time::format_rfc3339)
            .unwrap_or_default(),
        last_check,
    ]);
    text
}

/// The master spreadsheet of every link, oldest first.
pub async fn links_csv(db: &D1Database, config: &Config, origin: &str) -> Result<String> {
    let currency: Currency = config.reporting_currency;
    let links = store::all_links(db).await?;
    let profiles = store::all_profiles(db, currency).await?;
    let metrics: Vec<MetricRow> = all(
        Ok(query!(
            db,
            "SELECT l.id, \
               (SELECT COALESCE(SUM(clicks), 0) FROM click_rollup WHERE link_id = l.id) AS clicks, \
               (SELECT COALESCE(SUM(unique_clicks), 0) FROM click_rollup WHERE link_id = l.id) AS unique_clicks, \
               (SELECT COALESCE(SUM(conversion_micros), 0) FROM credit_rollup WHERE model = 'last_touch' AND link = l.slug) AS micros, \
               (SELECT COALESCE(SUM(revenue_minor), 0) FROM credit_rollup WHERE model = 'last_touch' AND link = l.slug) AS revenue, \
               k.checked_at, k.ok AS check_ok, k.reasons AS check_reasons \
             FROM links l LEFT JOIN link_checks k ON k.link_id = l.id ORDER BY l.id"
        )),
        "reading link metrics",
    )
    .await?;
    let costs: Vec<(String, Option<String>, i64)> = reporting_costs(db, None, currency, &mut 0)
        .await?
        .into_iter()
        .map(|c| (c.handle, c.campaign, c.amount))
        .collect();
    let pairs: Vec<(String, String)> = links
        .iter()
        .map(|l| {
            (
                l.influencer.as_str().to_owned(),
                l.campaign.as_str().to_owned(),
            )
        })
        .collect();
    let cost = export::allocate(&pairs, &costs);
    let empty = Profile::default();
    let none = MetricRow {
        id: 0,
        clicks: 0,
        unique_clicks: 0,
        micros: 0,
        revenue: 0,
        checked_at: None,
        check_ok: None,
        check_reasons: None,
    };
    let mut rows = Vec::with_capacity(links.len());
    for (i, l) in links.iter().enumerate() {
        let profile = profiles
            .iter()
            .find(|(h, _)| h == l.influencer.as_str())
            .map_or(&empty, |(_, p)| p);
        let m = metrics.iter().find(|m| m.id == l.id).unwrap_or(&none);
        let base = config.short_base_for(l.domain.as_deref(), origin);
        let text = link_columns(
            l,
            profile,
            &config.tiers,
            crate::links::link::short_url(&base, &l.slug),
            l.tracking_url(&config.store),
            m,
        );
        rows.push(ExportRow {
            text,
            clicks: m.clicks,
            unique_clicks: m.unique_clicks,
            conversion_micros: m.micros,
            revenue_minor: m.revenue,
            cost_minor: cost[i],
        });
    }
    Ok(export::links_csv(&rows, currency))
}

row! {
    struct SlugRow {
        slug: String,
    }

    struct CodeOwnerRow {
        code: String,
        handle: String,
    }
}

/// What D1 holds that an import is matched against.
async fn snapshot(db: &D1Database, currency: Currency) -> Result<Snapshot> {
    let influencers = store::all_profiles(db, currency)
        .await?
        .into_iter()
        .filter_map(|(h, p)| Handle::parse(&h).ok().map(|h| (h, p)))
        .collect();
    let campaigns: Vec<SlugRow> = all(
        Ok(query!(db, "SELECT slug FROM campaigns ORDER BY id")),
        "reading campaigns",
    )
    .await?;
    let codes: Vec<CodeOwnerRow> = all(
        Ok(query!(
            db,
            "SELECT k.code, i.handle FROM codes k JOIN influencers i ON i.id = k.influencer_id ORDER BY k.id"
        )),
        "reading codes",
    )
    .await?;
    let links = store::all_links(db)
        .await?
        .into_iter()
        .map(|l| ExistingLink {
            slug: l.slug,
            influencer: l.influencer,
            campaign: l.campaign,
            destination: l.destination,
            format: l.piece.format,
            posted_at: l.piece.posted_at,
            product_category: l.piece.product_category,
            discount_code: l.discount_code,
            discount_style: l.discount.style,
            tags: l.tags,
        })
        .collect();
    Ok(Snapshot {
        influencers,
        campaigns: campaigns
            .iter()
            .filter_map(|c| CampaignSlug::parse(&c.slug).ok())
            .collect(),
        codes: codes
            .iter()
            .filter_map(|c| {
                Some((
                    PromoCode::parse(&c.code).ok()?,
                    Handle::parse(&c.handle).ok()?,
                ))
            })
            .collect(),
        links,
    })
}

/// The 400 of a file with errors: the first as the error, all of them
/// (line, column, code, message) as `errors`.
fn rejected(errors: &[RowError]) -> std::result::Result<Response, ApiError> {
    let first = errors.first();
    let body = json!({
        "error": {
            "code": first.map_or("invalid_csv", |e| e.code),
            "message": first.map_or_else(String::new, |e| format!("line {}: {}", e.line, e.message)),
            "field": first.map(|e| e.column.as_str()).filter(|c| !c.is_empty()),
        },
        "errors": errors,
    });
    super::http::json(400, &body)
}

/// Rows per JSON parameter of the import's bulk statements.
const IMPORT_CHUNK: usize = 500;

/// `POST /api/v1/import`: validates and plans the whole file, then (unless
/// `dry_run`) writes every create and update in one D1 batch: all or
/// nothing.
pub async fn import(
    env: &worker::Env,
    db: &D1Database,
    config: &Config,
    text: &str,
    dry_run: bool,
) -> std::result::Result<Response, ApiError> {
    let currency = config.reporting_currency;
    let rows = match import::parse_rows(text, currency) {
        Ok(rows) => rows,
        Err(errors) => return rejected(&errors),
    };
    let plan = match import::plan(&rows, &snapshot(db, currency).await?) {
        Ok(plan) => plan,
        Err(errors) => return rejected(&errors),
    };
    let mut summary = plan.summary();
    summary["dry_run"] = json!(dry_run);
    let updated_links = plan
        .links
        .iter()
        .filter(|l| l.action == Action::Update)
        .count();
    if updated_links > BULK_MAX {
        return Err(ApiError::invalid(
            "too_many_updates",
            format!("the file changes {updated_links} existing links; at most {BULK_MAX} per file"),
        ));
    }
    if dry_run || plan.counts.creates + plan.counts.updates == 0 {
        return super::http::json(200, &summary);
    }
    let now = super::now();
    let mut writes = Vec::new();
    let profile = |h: &Handle, p: &Profile| {
        let c = &p.contract;
        json!({"h": h.as_str(), "name": p.name, "platform": p.platform.map(|x| x.as_str()),
               "followers": p.follower_count, "niche": p.niche.as_ref().map(|n| n.as_str()),
               "email": p.contact_email, "fee": c.base_fee.as_ref().map(|m| m.minor),
               "bonus": c.bonus_per_conversion.as_ref().map(|m| m.minor), "share": c.revenue_share_bp,
               "start": c.start, "end": c.end})
    };
    let of = |action: Action| {
        plan.influencers
            .iter()
            .filter(move |(_, _, a)| *a == action)
            .map(|(h, p, _)| profile(h, p))
            .collect::<Vec<_>>()
    };
    const PROFILE_COLUMNS: &str = "json_extract(value, '$.name'), json_extract(value, '$.platform'), \
        json_extract(value, '$.followers'), json_extract(value, '$.niche'), json_extract(value, '$.email'), \
        json_extract(value, '$.fee'), json_extract(value, '$.bonus'), json_extract(value, '$.share'), \
        json_extract(value, '$.start'), json_extract(value, '$.end')";
    for chunk in of(Action::Create).chunks(IMPORT_CHUNK) {
        writes.push(stmt(
            query!(
                db,
                &format!(
                    "INSERT INTO influencers (handle, created_at, name, platform, follower_count, niche, contact_email, \
                       base_fee_minor, bonus_minor, revenue_share_bp, contract_start, contract_end) \
                     SELECT json_extract(value, '$.h'), ?2, {PROFILE_COLUMNS} FROM json_each(?1)"
                ),
                store::json_text(chunk),
                now
            ),
            "binding influencer import",
        )?);
    }
    for chunk in of(Action::Update).chunks(IMPORT_CHUNK) {
        writes.push(stmt(
            query!(
                db,
                &format!(
                    "UPDATE influencers SET (name, platform, follower_count, niche, contact_email, base_fee_minor, \
                       bonus_minor, revenue_share_bp, contract_start, contract_end) = \
                       (SELECT {PROFILE_COLUMNS} FROM json_each(?1) WHERE json_extract(value, '$.h') = influencers.handle) \
                     WHERE handle IN (SELECT json_extract(value, '$.h') FROM json_each(?1))"
                ),
                store::json_text(chunk)
            ),
            "binding influencer update",
        )?);
    }
    let campaigns: Vec<&str> = plan
        .campaigns
        .iter()
        .filter(|c| c.1 == Action::Create)
        .map(|c| c.0.as_str())
        .collect();
    if !campaigns.is_empty() {
        writes.push(stmt(
            query!(
                db,
                "INSERT INTO campaigns (slug, created_at) SELECT value, ?2 FROM json_each(?1)",
                store::json_text(&campaigns),
                now
            ),
            "binding campaign import",
        )?);
    }
    let codes: Vec<Value> = plan
        .codes
        .iter()
        .filter(|c| c.2 == Action::Create)
        .map(|(code, h, _)| json!({"code": code.as_str(), "h": h.as_str()}))
        .collect();
    for chunk in codes.chunks(IMPORT_CHUNK) {
        writes.push(stmt(
            query!(
                db,
                "INSERT INTO codes (code, influencer_id, created_at) \
                 SELECT json_extract(value, '$.code'), \
                        (SELECT id FROM influencers WHERE handle = json_extract(value, '$.h')), ?2 \
                 FROM json_each(?1)",
                store::json_text(chunk),
                now
            ),
            "binding code import",
        )?);
    }
    // Links: generated slugs for new links without one; the category in
    // force (explicit, else by PRODUCT_CATEGORIES).
    let link_json = |l: &PlannedLink, slug: &str| {
        let category = l
            .product_category
            .clone()
            .or_else(|| config.categories.category_of(&l.destination));
        let tags: Vec<&str> = l.tags.iter().map(|t| t.as_str()).collect();
        json!({"s": slug, "h": l.influencer.as_str(), "c": l.campaign.as_str(),
               "d": l.destination.as_str(), "f": l.format.map(|f| f.as_str()), "p": l.posted_at,
               "cat": category.as_ref().map(|c| c.as_str()), "x": i64::from(l.product_category.is_some()),
               "code": l.discount_code.as_ref().map(|c| c.as_str()),
               "style": l.discount_style.map(|s| s.as_str()), "t": tags})
    };
    let mut created = Vec::new();
    let mut updated = Vec::new();
    for l in &plan.links {
        let slug = match &l.slug {
            Some(s) => s.clone(),
            None => Slug::generate(super::random::bytes::<GENERATED_LEN>()),
        };
        match l.action {
            Action::Create => created.push(link_json(l, slug.as_str())),
            Action::Update => updated.push(link_json(l, slug.as_str())),
            Action::Unchanged => {}
        }
    }
    const LINK_VALUES: &str =
        "json_extract(value, '$.d'), json_extract(value, '$.f'), json_extract(value, '$.p'), \
        json_extract(value, '$.cat'), json_extract(value, '$.x'), json_extract(value, '$.code'), \
        json_extract(value, '$.style')";
    for chunk in created.chunks(IMPORT_CHUNK) {
        writes.push(stmt(
            query!(
                db,
                &format!(
                    "INSERT INTO links (slug, influencer_id, campaign_id, utm_medium, status, created_at, updated_at, \
                       escape_in_app, destination, format, posted_at, product_category, category_explicit, \
                       discount_code, discount_style) \
                     SELECT json_extract(value, '$.s'), \
                       (SELECT id FROM influencers WHERE handle = json_extract(value, '$.h')), \
                       (SELECT id FROM campaigns WHERE slug = json_extract(value, '$.c')), \
                       'influencer', 'active', ?2, ?2, 0, {LINK_VALUES} FROM json_each(?1)"
                ),
                store::json_text(chunk),
                now
            ),
            "binding link import",
        )?);
    }
    for chunk in updated.chunks(IMPORT_CHUNK) {
        writes.push(stmt(
            query!(
                db,
                &format!(
                    "UPDATE links SET (destination, format, posted_at, product_category, category_explicit, \
                       discount_code, discount_style) = \
                       (SELECT {LINK_VALUES} FROM json_each(?1) WHERE json_extract(value, '$.s') = links.slug), \
                       updated_at = ?2 \
                     WHERE slug IN (SELECT json_extract(value, '$.s') FROM json_each(?1))"
                ),
                store::json_text(chunk),
                now
            ),
            "binding link update",
        )?);
    }
    for chunk in created
        .chunks(IMPORT_CHUNK)
        .chain(updated.chunks(IMPORT_CHUNK))
    {
        let text = store::json_text(chunk);
        writes.push(stmt(
            query!(
                db,
                "DELETE FROM link_tags WHERE link_id IN \
                   (SELECT id FROM links WHERE slug IN (SELECT json_extract(value, '$.s') FROM json_each(?1)))",
                &text
            ),
            "binding tag clear",
        )?);
        writes.push(stmt(
            query!(
                db,
                "INSERT INTO link_tags (link_id, tag) \
                 SELECT l.id, t.value FROM json_each(?1) j JOIN links l ON l.slug = json_extract(j.value, '$.s'), \
                        json_each(json_extract(j.value, '$.t')) t",
                &text
            ),
            "binding tag import",
        )?);
    }
    store::batch(db, writes, "importing the spreadsheet").await?;
    // Changed links' redirect records (new ones fill KV on their first visit).
    let slugs: Vec<&str> = updated.iter().filter_map(|v| v["s"].as_str()).collect();
    if !slugs.is_empty() {
        for record in store::links_by_slugs(db, &store::json_text(&slugs)).await? {
            super::admin::publish(env, config, &record).await?;
        }
    }
    super::http::json(200, &summary)
}
