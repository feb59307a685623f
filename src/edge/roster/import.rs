//! The spreadsheet import: a snapshot of D1, the core's plan against it,
//! and one batch of bulk `json_each` statements (all or nothing), then the
//! changed links published to KV.

use crate::base::error::ApiError;
use crate::base::money::Currency;
use crate::config::Config;
use crate::edge::d1::{all, query, row, stmt};
use crate::links::bulk::BULK_MAX;
use crate::links::code::PromoCode;
use crate::links::slug::{Slug, GENERATED_LEN};
use crate::links::utm_names::{CampaignSlug, Handle};
use crate::roster::import::{Action, ExistingLink, PlannedLink, RowError, Snapshot};
use crate::roster::influencers::Profile;
use serde_json::{json, Value};
use worker::{D1Database, Response};

type Result<T> = std::result::Result<T, ApiError>;

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
    let influencers = crate::edge::roster::records::all_profiles(db, currency)
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
    let links = crate::edge::links::link_rows::all_links(db)
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
    crate::edge::http::json(400, &body)
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
    let rows = match crate::roster::import::parse_rows(text, currency) {
        Ok(rows) => rows,
        Err(errors) => return rejected(&errors),
    };
    let plan = match crate::roster::import::plan(&rows, &snapshot(db, currency).await?) {
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
        return crate::edge::http::json(200, &summary);
    }
    let now = crate::edge::now();
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
                crate::edge::d1::json_text(chunk),
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
                crate::edge::d1::json_text(chunk)
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
                crate::edge::d1::json_text(&campaigns),
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
                crate::edge::d1::json_text(chunk),
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
            None => Slug::generate(crate::edge::random::bytes::<GENERATED_LEN>()),
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
                crate::edge::d1::json_text(chunk),
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
                crate::edge::d1::json_text(chunk),
                now
            ),
            "binding link update",
        )?);
    }
    for chunk in created
        .chunks(IMPORT_CHUNK)
        .chain(updated.chunks(IMPORT_CHUNK))
    {
        let text = crate::edge::d1::json_text(chunk);
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
    crate::edge::d1::batch(db, writes, "importing the spreadsheet").await?;
    // Changed links' redirect records (new ones fill KV on their first visit).
    let slugs: Vec<&str> = updated.iter().filter_map(|v| v["s"].as_str()).collect();
    if !slugs.is_empty() {
        for record in
            crate::edge::links::link_rows::links_by_slugs(db, &crate::edge::d1::json_text(&slugs))
                .await?
        {
            crate::edge::links::cache::publish(env, config, &record).await?;
        }
    }
    crate::edge::http::json(200, &summary)
}
