//! D1 access: every SQL statement the worker runs lives here.
//!
//! Rows are read into plain `*Row` structs and turned into core types with
//! `TryFrom`, re-validating through the newtypes' `parse()`, so a corrupt
//! row is reported instead of being served.

use super::http::unavailable;
use super::rows::{self, query, row, D1Out, FromRow};
use crate::base::error::{ApiError, ParseError};
use crate::base::money::{Currency, Money};
use crate::base::pagination::Page;
use crate::base::time::Millis;
use crate::links::bulk::{BulkAction, BulkEdit, BULK_MAX};
use crate::links::code::{CodeView, NewCode, PromoCode};
use crate::links::destination::Destination;
use crate::links::discount::{DiscountSetting, DiscountStyle, ParamName};
use crate::links::link::{
    parse_tags, ContentPiece, Format, Limits, LinkRecord, LinkStatus, NewLink, Routing,
};
use crate::links::slug::Slug;
use crate::links::targeting;
use crate::links::utm_names::{CampaignSlug, Handle, Platform, Tag, UtmValue};
use crate::roster::influencers::{
    CampaignView, Contract, InfluencerView, NewCampaign, NewInfluencer, Profile, Tiers,
};
use crate::traffic::click::{LinkStats, StatsCounts, UNIQUE_WINDOW};
use crate::traffic::group_commit::{self, ClickRow, Param, ROWS_PER_STATEMENT};
use std::collections::BTreeMap;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

type Result<T> = std::result::Result<T, ApiError>;

const LINK_SELECT: &str = "SELECT l.id, l.slug, l.destination, i.handle, c.slug AS campaign, \
     l.content, l.platform, l.utm_medium, l.utm_term, l.status, l.expires_at, l.starts_at, l.max_clicks, l.expired_url, \
     l.created_at, l.updated_at, \
     l.discount_code, l.discount_style, l.discount_param, l.escape_in_app, \
     c.discount_style AS campaign_discount_style, c.discount_param AS campaign_discount_param, \
     l.rules, l.variants, l.domain, l.format, l.posted_at, l.product_category, l.category_explicit, \
     (SELECT json_group_array(tag) FROM (SELECT tag FROM link_tags WHERE link_id = l.id ORDER BY tag)) AS tags \
     FROM links l JOIN influencers i ON i.id = l.influencer_id JOIN campaigns c ON c.id = l.campaign_id";

row! {
    struct IdRow {
        id: i64,
    }

    struct InfluencerRow {
        id: i64,
        handle: String,
        name: Option<String>,
        platform: Option<String>,
        follower_count: Option<i64>,
        niche: Option<String>,
        contact_email: Option<String>,
        base_fee_minor: Option<i64>,
        bonus_minor: Option<i64>,
        revenue_share_bp: Option<i64>,
        contract_start: Option<i64>,
        contract_end: Option<i64>,
        created_at: Millis,
    }

    struct CampaignRow {
        id: i64,
        slug: String,
        name: Option<String>,
        discount_style: Option<String>,
        discount_param: Option<String>,
        created_at: Millis,
    }

    struct LinkRow {
        id: i64,
        slug: String,
        destination: String,
        handle: String,
        campaign: String,
        content: Option<String>,
        platform: Option<String>,
        utm_medium: String,
        utm_term: Option<String>,
        status: String,
        expires_at: Option<Millis>,
        starts_at: Option<Millis>,
        max_clicks: Option<i64>,
        expired_url: Option<String>,
        created_at: Millis,
        updated_at: Millis,
        discount_code: Option<String>,
        discount_style: Option<String>,
        discount_param: Option<String>,
        escape_in_app: i64,
        campaign_discount_style: Option<String>,
        campaign_discount_param: Option<String>,
        rules: Option<String>,
        variants: Option<String>,
        domain: Option<String>,
        tags: Option<String>,
        format: Option<String>,
        posted_at: Option<Millis>,
        product_category: Option<String>,
        category_explicit: i64,
    }
}

const INFLUENCER_SELECT: &str = "SELECT id, handle, name, platform, follower_count, niche, contact_email, \
     base_fee_minor, bonus_minor, revenue_share_bp, contract_start, contract_end, created_at FROM influencers";

impl InfluencerRow {
    /// The stored profile; amounts are in `currency` (the reporting one).
    /// Values that no longer parse are left out rather than failing the
    /// roster.
    fn profile(&self, currency: Currency) -> Profile {
        let money = |m: Option<i64>| m.map(|minor| Money { minor, currency });
        Profile {
            name: self.name.clone(),
            platform: self
                .platform
                .as_deref()
                .and_then(|p| Platform::parse(p).ok()),
            follower_count: self.follower_count.and_then(|f| u64::try_from(f).ok()),
            niche: self.niche.as_deref().and_then(|n| UtmValue::parse(n).ok()),
            contact_email: self.contact_email.clone(),
            contract: Contract {
                base_fee: money(self.base_fee_minor),
                bonus_per_conversion: money(self.bonus_minor),
                revenue_share_bp: self.revenue_share_bp.and_then(|b| u32::try_from(b).ok()),
                start: self.contract_start,
                end: self.contract_end,
            },
        }
    }
}

/// A JSON list column (`rules`, `variants`, `tags`), re-validated.
fn json_list<T>(
    text: Option<&str>,
    parse: fn(&serde_json::Value) -> std::result::Result<Vec<T>, ApiError>,
) -> std::result::Result<Vec<T>, String> {
    let Some(text) = text else {
        return Ok(Vec::new());
    };
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    parse(&v).map_err(|e| e.to_string())
}

impl TryFrom<LinkRow> for LinkRecord {
    type Error = String;

    fn try_from(r: LinkRow) -> std::result::Result<Self, String> {
        let id = r.id;
        let bad = |what: &'static str| {
            move |e: crate::base::error::ParseError| format!("link row {id}: {what}: {}", e.message)
        };
        let category = r
            .product_category
            .as_deref()
            .map(UtmValue::parse)
            .transpose()
            .map_err(bad("product_category"))?;
        Ok(LinkRecord {
            id: r.id,
            slug: Slug::parse(&r.slug).map_err(bad("slug"))?,
            destination: Destination::parse(&r.destination).map_err(bad("destination"))?,
            influencer: Handle::parse(&r.handle).map_err(bad("handle"))?,
            campaign: CampaignSlug::parse(&r.campaign).map_err(bad("campaign"))?,
            content: r
                .content
                .as_deref()
                .map(UtmValue::parse)
                .transpose()
                .map_err(bad("content"))?,
            platform: r
                .platform
                .as_deref()
                .map(Platform::parse)
                .transpose()
                .map_err(bad("platform"))?,
            utm_medium: UtmValue::parse(&r.utm_medium).map_err(bad("utm_medium"))?,
            utm_term: r
                .utm_term
                .as_deref()
                .map(UtmValue::parse)
                .transpose()
                .map_err(bad("utm_term"))?,
            status: LinkStatus::parse(&r.status).map_err(bad("status"))?,
            limits: Limits {
                starts_at: r.starts_at,
                expires_at: r.expires_at,
                max_clicks: r
                    .max_clicks
                    .map(u32::try_from)
                    .transpose()
                    .map_err(|_| format!("link row {id}: max_clicks out of range"))?,
                expired_url: r
                    .expired_url
                    .as_deref()
                    .map(Destination::parse)
                    .transpose()
                    .map_err(bad("expired_url"))?,
            },
            discount_code: r
                .discount_code
                .as_deref()
                .map(PromoCode::parse)
                .transpose()
                .map_err(bad("discount_code"))?,
            discount: DiscountSetting {
                style: r
                    .discount_style
                    .as_deref()
                    .map(DiscountStyle::parse)
                    .transpose()
                    .map_err(bad("discount_style"))?,
                param: r
                    .discount_param
                    .as_deref()
                    .map(ParamName::parse)
                    .transpose()
                    .map_err(bad("discount_param"))?,
            },
            campaign_discount: DiscountSetting {
                style: r
                    .campaign_discount_style
                    .as_deref()
                    .map(DiscountStyle::parse)
                    .transpose()
                    .map_err(bad("campaign discount_style"))?,
                param: r
                    .campaign_discount_param
                    .as_deref()
                    .map(ParamName::parse)
                    .transpose()
                    .map_err(bad("campaign discount_param"))?,
            },
            escape_in_app: r.escape_in_app != 0,
            routing: Routing {
                rules: json_list(r.rules.as_deref(), targeting::parse_rules)
                    .map_err(|e| format!("link row {id}: rules: {e}"))?,
                variants: json_list(r.variants.as_deref(), targeting::parse_variants)
                    .map_err(|e| format!("link row {id}: variants: {e}"))?,
            },
            tags: json_list(r.tags.as_deref(), parse_tags)
                .map_err(|e| format!("link row {id}: tags: {e}"))?,
            domain: r.domain,
            piece: ContentPiece {
                format: r
                    .format
                    .as_deref()
                    .map(Format::parse)
                    .transpose()
                    .map_err(bad("format"))?,
                posted_at: r.posted_at,
                product_category: if r.category_explicit != 0 {
                    category.clone()
                } else {
                    None
                },
            },
            category,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A bound statement, or a 503 logged as `what` when binding failed.
pub(super) fn stmt(
    s: worker::Result<D1PreparedStatement>,
    what: &'static str,
) -> Result<D1PreparedStatement> {
    s.map_err(unavailable(what))
}

/// A value as one JSON text parameter (for `json_each(?n)`).
pub(super) fn json_text<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// The first row of a statement, if any; failures are logged as `what`.
pub(super) async fn first<T: FromRow>(
    stmt: worker::Result<D1PreparedStatement>,
    what: &'static str,
) -> Result<Option<T>> {
    let row = rows::first(&stmt.map_err(unavailable(what))?)
        .await
        .map_err(unavailable(what))?;
    row.map(|r| T::from_row(&r))
        .transpose()
        .map_err(unavailable(what))
}

/// A statement's rows and metadata; failures are logged as `what`.
pub(super) async fn out(
    stmt: worker::Result<D1PreparedStatement>,
    what: &'static str,
) -> Result<D1Out> {
    rows::all(&stmt.map_err(unavailable(what))?)
        .await
        .map_err(unavailable(what))
}

/// All rows of a statement; failures are logged as `what`.
pub(super) async fn all<T: FromRow>(
    stmt: worker::Result<D1PreparedStatement>,
    what: &'static str,
) -> Result<Vec<T>> {
    out(stmt, what).await?.rows().map_err(unavailable(what))
}

/// Runs a statement for its effect; failures are logged as `what`.
pub(super) async fn run(
    stmt: worker::Result<D1PreparedStatement>,
    what: &'static str,
) -> Result<()> {
    stmt.map_err(unavailable(what))?
        .run()
        .await
        .map_err(unavailable(what))?;
    Ok(())
}

fn to_record(row: LinkRow) -> Result<LinkRecord> {
    LinkRecord::try_from(row).map_err(unavailable("corrupt link row"))
}

/// The profile's columns, in the order of [`profile_args`].
const PROFILE_COLUMNS: [&str; 10] = [
    "name",
    "platform",
    "follower_count",
    "niche",
    "contact_email",
    "base_fee_minor",
    "bonus_minor",
    "revenue_share_bp",
    "contract_start",
    "contract_end",
];

/// A profile as statement arguments, in [`PROFILE_COLUMNS`] order: the
/// insert and the update bind the same list.
fn profile_args(p: &Profile) -> [wasm_bindgen::JsValue; 10] {
    use super::rows::Param;
    [
        p.name.as_deref().js(),
        p.platform.map(Platform::as_str).js(),
        p.follower_count.map(|f| f as i64).js(),
        p.niche.as_ref().map(UtmValue::as_str).js(),
        p.contact_email.as_deref().js(),
        p.contract.base_fee.as_ref().map(|m| m.minor).js(),
        p.contract
            .bonus_per_conversion
            .as_ref()
            .map(|m| m.minor)
            .js(),
        p.contract.revenue_share_bp.js(),
        p.contract.start.js(),
        p.contract.end.js(),
    ]
}

/// `?{from}, ?{from+1}, ...`, one per profile column.
fn profile_slots(from: usize) -> Vec<String> {
    (from..from + PROFILE_COLUMNS.len())
        .map(|n| format!("?{n}"))
        .collect()
}

/// Inserts an influencer; `false` when the handle is taken.
pub async fn insert_influencer(db: &D1Database, i: &NewInfluencer, now: Millis) -> Result<bool> {
    use super::rows::Param;
    let sql = format!(
        "INSERT INTO influencers (handle, created_at, {}) VALUES (?1, ?2, {}) \
         ON CONFLICT(handle) DO NOTHING RETURNING id",
        PROFILE_COLUMNS.join(", "),
        profile_slots(3).join(", ")
    );
    let mut args = vec![i.handle.as_str().js(), now.js()];
    args.extend(profile_args(&i.profile));
    let row: Option<IdRow> = first(db.prepare(&sql).bind(&args), "inserting influencer").await?;
    Ok(row.is_some())
}

/// Writes an influencer's profile back.
pub async fn update_influencer(db: &D1Database, handle: &Handle, p: &Profile) -> Result<()> {
    use super::rows::Param;
    let sets: Vec<String> = PROFILE_COLUMNS
        .iter()
        .zip(profile_slots(2))
        .map(|(c, slot)| format!("{c} = {slot}"))
        .collect();
    let sql = format!(
        "UPDATE influencers SET {} WHERE handle = ?1",
        sets.join(", ")
    );
    let mut args = vec![handle.as_str().js()];
    args.extend(profile_args(p));
    run(db.prepare(&sql).bind(&args), "updating influencer").await
}

/// One influencer: its profile and creation time.
pub async fn load_influencer(
    db: &D1Database,
    handle: &Handle,
    currency: Currency,
) -> Result<Option<(Profile, Millis)>> {
    let row: Option<InfluencerRow> = first(
        query!(
            db,
            &format!("{INFLUENCER_SELECT} WHERE handle = ?1"),
            handle.as_str()
        ),
        "loading influencer",
    )
    .await?;
    Ok(row.map(|r| (r.profile(currency), r.created_at)))
}

pub async fn list_influencers(
    db: &D1Database,
    page: Page,
    currency: Currency,
    tiers: &Tiers,
) -> Result<(Vec<InfluencerView>, Vec<i64>)> {
    let rows: Vec<InfluencerRow> = all(
        query!(
            db,
            &format!("{INFLUENCER_SELECT} WHERE id > ?1 ORDER BY id LIMIT ?2"),
            page.after,
            page.limit
        ),
        "listing influencers",
    )
    .await?;
    let ids = rows.iter().map(|r| r.id).collect();
    let views = rows
        .iter()
        .map(|r| InfluencerView::new(r.handle.clone(), &r.profile(currency), tiers, r.created_at))
        .collect();
    Ok((views, ids))
}

/// Inserts a campaign; `None` when the slug is taken.
pub async fn insert_campaign(
    db: &D1Database,
    c: &NewCampaign,
    now: Millis,
) -> Result<Option<CampaignView>> {
    let style = c.discount.style.map(DiscountStyle::as_str);
    let param = c.discount.param.as_ref().map(ParamName::as_str);
    let row: Option<IdRow> = first(query!(
        db,
        "INSERT INTO campaigns (slug, name, discount_style, discount_param, created_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT(slug) DO NOTHING RETURNING id",
        c.slug.as_str(),
        c.name.as_deref(),
        style,
        param,
        now
    ), "inserting campaign").await?;
    Ok(row.map(|_| {
        CampaignView::new(
            c.slug.as_str().to_owned(),
            c.name.clone(),
            style.map(str::to_owned),
            param.map(str::to_owned),
            now,
        )
    }))
}

pub async fn list_campaigns(db: &D1Database, page: Page) -> Result<(Vec<CampaignView>, Vec<i64>)> {
    let rows: Vec<CampaignRow> = all(
        query!(
            db,
            "SELECT id, slug, name, discount_style, discount_param, created_at FROM campaigns \
         WHERE id > ?1 ORDER BY id LIMIT ?2",
            page.after,
            page.limit
        ),
        "listing campaigns",
    )
    .await?;
    let ids = rows.iter().map(|r| r.id).collect();
    let views = rows
        .into_iter()
        .map(|r| {
            CampaignView::new(
                r.slug,
                r.name,
                r.discount_style,
                r.discount_param,
                r.created_at,
            )
        })
        .collect();
    Ok((views, ids))
}

row! {
    struct RefsRow {
        influencer_id: Option<i64>,
        campaign_id: Option<i64>,
    }
}

/// The ids of an influencer handle and a campaign slug, in one query.
pub async fn resolve_refs(
    db: &D1Database,
    handle: &Handle,
    campaign: &CampaignSlug,
) -> Result<(Option<i64>, Option<i64>)> {
    let row: Option<RefsRow> = first(
        query!(
            db,
            "SELECT (SELECT id FROM influencers WHERE handle = ?1) AS influencer_id, \
                (SELECT id FROM campaigns WHERE slug = ?2) AS campaign_id",
            handle.as_str(),
            campaign.as_str()
        ),
        "looking up influencer and campaign",
    )
    .await?;
    Ok(row.map_or((None, None), |r| (r.influencer_id, r.campaign_id)))
}

/// Inserts a link under `slug` with its tags, in one batch; `false` when
/// the slug is taken (then nothing is written).
pub async fn insert_link(
    db: &D1Database,
    l: &NewLink,
    slug: &Slug,
    refs: (i64, i64),
    category: Option<&UtmValue>,
    now: Millis,
) -> Result<bool> {
    let (influencer_id, campaign_id) = refs;
    let insert = stmt(query!(
        db,
        "INSERT INTO links (slug, destination, influencer_id, campaign_id, content, platform, utm_medium, \
                            utm_term, status, expires_at, created_at, updated_at, \
                            discount_code, discount_style, discount_param, escape_in_app, \
                            starts_at, max_clicks, expired_url, rules, variants, domain, \
                            format, posted_at, product_category, category_explicit) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'active', ?14, ?9, ?9, ?10, ?11, ?12, ?13, ?15, ?16, ?17, ?18, ?19, ?20, \
                 ?21, ?22, ?23, ?24) \
         ON CONFLICT(slug) DO NOTHING",
        slug.as_str(),
        l.destination.as_str(),
        influencer_id,
        campaign_id,
        l.content.as_ref().map(UtmValue::as_str),
        l.platform.map(Platform::as_str),
        l.utm_medium.as_str(),
        l.utm_term.as_ref().map(UtmValue::as_str),
        now,
        l.discount_code.as_ref().map(PromoCode::as_str),
        l.discount.style.map(DiscountStyle::as_str),
        l.discount.param.as_ref().map(ParamName::as_str),
        i64::from(l.escape_in_app),
        l.limits.expires_at,
        l.limits.starts_at,
        l.limits.max_clicks,
        l.limits.expired_url.as_ref().map(Destination::as_str),
        list_text(&l.routing.rules),
        list_text(&l.routing.variants),
        l.domain.as_deref(),
        l.piece.format.map(Format::as_str),
        l.piece.posted_at,
        category.map(UtmValue::as_str),
        i64::from(l.piece.product_category.is_some())
    ), "binding link insert")?;
    // Only when the link row was inserted (changes() is the link insert's).
    let tags = stmt(
        query!(
            db,
            "INSERT INTO link_tags (link_id, tag) SELECT l.id, j.value FROM links l, json_each(?2) j \
             WHERE l.slug = ?1 AND changes() > 0",
            slug.as_str(),
            tag_list(&l.tags)
        ),
        "binding tag insert",
    )?;
    let results = batch(db, vec![insert, tags], "inserting link").await?;
    Ok(results.first().and_then(|r| r.meta().changes).unwrap_or(0) > 0)
}

/// A list as a JSON text column; `None` (NULL) when empty.
fn list_text<T: serde::Serialize>(items: &[T]) -> Option<String> {
    (!items.is_empty()).then(|| json_text(items))
}

fn tag_list(tags: &[Tag]) -> String {
    let tags: Vec<&str> = tags.iter().map(Tag::as_str).collect();
    json_text(&tags)
}

pub async fn load_link(db: &D1Database, slug: &Slug) -> Result<Option<LinkRecord>> {
    let row: Option<LinkRow> = first(
        query!(
            db,
            &format!("{LINK_SELECT} WHERE l.slug = ?1"),
            slug.as_str()
        ),
        "loading link",
    )
    .await?;
    row.map(to_record).transpose()
}

/// A page of links, optionally only those carrying `tag`.
pub async fn list_links(db: &D1Database, page: Page, tag: Option<&Tag>) -> Result<Vec<LinkRecord>> {
    let rows: Vec<LinkRow> = all(
        query!(
            db,
            &format!(
                "{LINK_SELECT} WHERE l.id > ?1 \
                 AND (?3 IS NULL OR l.id IN (SELECT link_id FROM link_tags WHERE tag = ?3)) \
                 ORDER BY l.id LIMIT ?2"
            ),
            page.after,
            page.limit,
            tag.map(Tag::as_str)
        ),
        "listing links",
    )
    .await?;
    rows.into_iter().map(to_record).collect()
}

/// Writes a link's mutable fields back.
pub async fn update_link(db: &D1Database, l: &LinkRecord) -> Result<()> {
    let update = stmt(query!(
        db,
        "UPDATE links SET destination = ?1, status = ?2, expires_at = ?3, updated_at = ?4, \
         starts_at = ?10, max_clicks = ?11, expired_url = ?12, rules = ?13, variants = ?14, domain = ?15, \
         format = ?16, posted_at = ?17, product_category = ?18, category_explicit = ?19, \
         discount_code = ?5, discount_style = ?6, discount_param = ?7, escape_in_app = ?8 WHERE id = ?9",
        l.destination.as_str(),
        l.status.as_str(),
        l.limits.expires_at,
        l.updated_at,
        l.discount_code.as_ref().map(PromoCode::as_str),
        l.discount.style.map(DiscountStyle::as_str),
        l.discount.param.as_ref().map(ParamName::as_str),
        i64::from(l.escape_in_app),
        l.id,
        l.limits.starts_at,
        l.limits.max_clicks,
        l.limits.expired_url.as_ref().map(Destination::as_str),
        list_text(&l.routing.rules),
        list_text(&l.routing.variants),
        l.domain.as_deref(),
        l.piece.format.map(Format::as_str),
        l.piece.posted_at,
        l.category.as_ref().map(UtmValue::as_str),
        i64::from(l.piece.product_category.is_some())
    ), "binding link update")?;
    let clear = stmt(
        query!(db, "DELETE FROM link_tags WHERE link_id = ?1", l.id),
        "binding tag delete",
    )?;
    let tags = stmt(
        query!(
            db,
            "INSERT INTO link_tags (link_id, tag) SELECT ?1, value FROM json_each(?2)",
            l.id,
            tag_list(&l.tags)
        ),
        "binding tag insert",
    )?;
    batch(db, vec![update, clear, tags], "updating link").await?;
    Ok(())
}

/// Applies a bulk edit to every link its filter matches, in one batch (one
/// transaction), and returns the links as they are now. More than
/// [`BULK_MAX`] matches, or an unknown target campaign, writes nothing.
pub async fn bulk_edit(db: &D1Database, edit: &BulkEdit, now: Millis) -> Result<Vec<LinkRecord>> {
    let target_campaign = match &edit.action {
        BulkAction::MoveCampaign(slug) => {
            let row: Option<IdRow> = first(
                query!(
                    db,
                    "SELECT id FROM campaigns WHERE slug = ?1",
                    slug.as_str()
                ),
                "looking up campaign",
            )
            .await?;
            let row = row.ok_or_else(|| {
                ParseError::new(
                    "unknown_campaign",
                    format!("no campaign with slug '{slug}'"),
                )
                .at("campaign")
            })?;
            Some(row.id)
        }
        _ => None,
    };
    let f = &edit.filter;
    let ids: Vec<IdRow> = all(
        query!(
            db,
            "SELECT l.id FROM links l JOIN influencers i ON i.id = l.influencer_id \
             JOIN campaigns c ON c.id = l.campaign_id \
             WHERE (?1 IS NULL OR l.id IN (SELECT link_id FROM link_tags WHERE tag = ?1)) \
               AND (?2 IS NULL OR c.slug = ?2) AND (?3 IS NULL OR i.handle = ?3) \
             ORDER BY l.id LIMIT ?4",
            f.tag.as_ref().map(Tag::as_str),
            f.campaign.as_ref().map(CampaignSlug::as_str),
            f.influencer.as_ref().map(Handle::as_str),
            BULK_MAX as i64 + 1
        ),
        "selecting links for a bulk edit",
    )
    .await?;
    if ids.len() > BULK_MAX {
        return Err(ParseError::new(
            "too_many",
            format!("the filter matches more than {BULK_MAX} links; narrow it"),
        )
        .at("filter"));
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = json_text(&ids.iter().map(|r| r.id).collect::<Vec<_>>());
    let change = match &edit.action {
        BulkAction::Disable | BulkAction::Enable => {
            let status = if edit.action == BulkAction::Disable {
                LinkStatus::Disabled
            } else {
                LinkStatus::Active
            };
            query!(
                db,
                "UPDATE links SET status = ?1, updated_at = ?2 WHERE id IN (SELECT value FROM json_each(?3))",
                status.as_str(),
                now,
                &ids
            )
        }
        BulkAction::MoveCampaign(_) => query!(
            db,
            "UPDATE links SET campaign_id = ?1, updated_at = ?2 WHERE id IN (SELECT value FROM json_each(?3))",
            target_campaign,
            now,
            &ids
        ),
        BulkAction::AddTag(tag) => query!(
            db,
            "INSERT INTO link_tags (link_id, tag) SELECT value, ?1 FROM json_each(?2) WHERE 1 \
             ON CONFLICT DO NOTHING",
            tag.as_str(),
            &ids
        ),
    };
    batch(
        db,
        vec![stmt(change, "binding bulk edit")?],
        "applying bulk edit",
    )
    .await?;
    let rows: Vec<LinkRow> = all(
        query!(
            db,
            &format!("{LINK_SELECT} WHERE l.id IN (SELECT value FROM json_each(?1)) ORDER BY l.id"),
            &ids
        ),
        "reading links after a bulk edit",
    )
    .await?;
    rows.into_iter().map(to_record).collect()
}

/// Inserts click rows as one D1 batch (one transaction) of multi-row
/// `INSERT`s ([`group_commit::insert_sql`], within the bound-parameter limit);
/// a click id already stored is skipped.
pub async fn insert_click_rows(db: &D1Database, rows: &[ClickRow]) -> worker::Result<()> {
    let statements = rows
        .chunks(ROWS_PER_STATEMENT)
        .map(|chunk| {
            let values: Vec<JsValue> = chunk
                .iter()
                .flat_map(ClickRow::params)
                .map(|p| match p {
                    Param::Text(s) => JsValue::from_str(s),
                    // Ids and millisecond timestamps are far below 2^53.
                    Param::Int(n) => JsValue::from_f64(n as f64),
                    Param::Null => JsValue::NULL,
                })
                .collect();
            db.prepare(group_commit::insert_sql(chunk.len()))
                .bind(&values)
        })
        .collect::<worker::Result<Vec<_>>>()?;
    if !statements.is_empty() {
        rows::batch(db, &rows::statements(&statements)).await?;
    }
    Ok(())
}

row! {
    struct StatsRow {
        clicks: Option<u64>,
        unique_clicks: Option<u64>,
        unique_visitors: Option<u64>,
        bot_clicks: Option<u64>,
        first_click: Option<Millis>,
        last_click: Option<Millis>,
    }

    struct AppRow {
        app: String,
        clicks: u64,
    }
}

/// Human clicks, unique clicks (the `LAG()` form of the core's
/// `count_unique`), unique visitors, bot clicks and clicks per app.
pub async fn link_stats(db: &D1Database, link_id: i64) -> Result<LinkStats> {
    let totals = query!(
        db,
        "SELECT SUM(1 - is_bot) AS clicks, \
                SUM(CASE WHEN is_bot = 0 AND (prev_ts IS NULL OR ts - prev_ts >= ?2) THEN 1 ELSE 0 END) AS unique_clicks, \
                COUNT(DISTINCT CASE WHEN is_bot = 0 THEN visitor_id END) AS unique_visitors, \
                SUM(is_bot) AS bot_clicks, \
                MIN(CASE WHEN is_bot = 0 THEN ts END) AS first_click, \
                MAX(CASE WHEN is_bot = 0 THEN ts END) AS last_click \
         FROM (SELECT ts, visitor_id, is_bot, \
                      CASE WHEN is_bot = 0 THEN LAG(ts) OVER (PARTITION BY visitor_id, is_bot ORDER BY ts, id) END AS prev_ts \
               FROM clicks WHERE link_id = ?1)",
        link_id,
        UNIQUE_WINDOW
    )
    .map_err(unavailable("binding stats query"))?;
    let by_app = query!(
        db,
        "SELECT COALESCE(app, 'browser') AS app, COUNT(*) AS clicks FROM clicks \
         WHERE link_id = ?1 AND is_bot = 0 GROUP BY 1 ORDER BY 1",
        link_id
    )
    .map_err(unavailable("binding by-app query"))?;
    let results = rows::batch(db, &rows::statements(&[totals, by_app]))
        .await
        .map_err(unavailable("reading link stats"))?;
    let mut results = results.into_iter();
    let totals: Option<StatsRow> = results
        .next()
        .map(|r| r.rows::<StatsRow>())
        .transpose()
        .map_err(unavailable("decoding stats"))?
        .and_then(|rows| rows.into_iter().next());
    let apps: Vec<AppRow> = results
        .next()
        .map(|r| r.rows::<AppRow>())
        .transpose()
        .map_err(unavailable("decoding by-app stats"))?
        .unwrap_or_default();
    let counts = totals.map_or_else(StatsCounts::default, |r| StatsCounts {
        clicks: r.clicks.unwrap_or(0),
        unique_clicks: r.unique_clicks.unwrap_or(0),
        unique_visitors: r.unique_visitors.unwrap_or(0),
        bot_clicks: r.bot_clicks.unwrap_or(0),
        first: r.first_click,
        last: r.last_click,
    });
    let by_app: BTreeMap<String, u64> =
        crate::base::sorting::map(apps.into_iter().map(|a| (a.app, a.clicks)));
    Ok(LinkStats::new(counts, by_app))
}

row! {
    struct CodeRefsRow {
        influencer_id: Option<i64>,
        campaign_id: Option<i64>,
        link_id: Option<i64>,
        link_influencer_id: Option<i64>,
    }
}

/// The ids a new code refers to: `(influencer, campaign, (link, link's influencer))`.
pub struct CodeRefs {
    pub influencer_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub link: Option<(i64, i64)>,
}

pub async fn code_refs(db: &D1Database, c: &NewCode) -> Result<CodeRefs> {
    let row: Option<CodeRefsRow> = first(
        query!(
            db,
            "SELECT (SELECT id FROM influencers WHERE handle = ?1) AS influencer_id, \
                (SELECT id FROM campaigns WHERE slug = ?2) AS campaign_id, \
                (SELECT id FROM links WHERE slug = ?3) AS link_id, \
                (SELECT influencer_id FROM links WHERE slug = ?3) AS link_influencer_id",
            c.influencer.as_str(),
            c.campaign.as_ref().map(CampaignSlug::as_str),
            c.link.as_ref().map(Slug::as_str)
        ),
        "looking up code references",
    )
    .await?;
    Ok(row.map_or(
        CodeRefs {
            influencer_id: None,
            campaign_id: None,
            link: None,
        },
        |r| CodeRefs {
            influencer_id: r.influencer_id,
            campaign_id: r.campaign_id,
            link: r.link_id.zip(r.link_influencer_id),
        },
    ))
}

/// Inserts a code; `None` when it is taken.
pub async fn insert_code(
    db: &D1Database,
    c: &NewCode,
    influencer_id: i64,
    campaign_id: Option<i64>,
    link_id: Option<i64>,
    now: Millis,
) -> Result<Option<CodeView>> {
    let row: Option<IdRow> = first(
        query!(
        db,
        "INSERT INTO codes (code, influencer_id, campaign_id, link_id, description, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(code) DO NOTHING RETURNING id",
        c.code.as_str(),
        influencer_id,
        campaign_id,
        link_id,
        c.description.as_deref(),
        now
    ),
        "inserting code",
    )
    .await?;
    Ok(row.map(|_| {
        CodeView::new(
            c.code.as_str().to_owned(),
            c.influencer.as_str().to_owned(),
            c.campaign.as_ref().map(|s| s.as_str().to_owned()),
            c.link.as_ref().map(|s| s.as_str().to_owned()),
            c.description.clone(),
            now,
        )
    }))
}

row! {
    struct CodeRow {
        id: i64,
        code: String,
        handle: String,
        campaign: Option<String>,
        link: Option<String>,
        description: Option<String>,
        created_at: Millis,
    }
}

pub async fn list_codes(db: &D1Database, page: Page) -> Result<(Vec<CodeView>, Vec<i64>)> {
    let rows: Vec<CodeRow> = all(query!(
        db,
        "SELECT k.id, k.code, i.handle, c.slug AS campaign, l.slug AS link, k.description, k.created_at \
         FROM codes k JOIN influencers i ON i.id = k.influencer_id \
         LEFT JOIN campaigns c ON c.id = k.campaign_id LEFT JOIN links l ON l.id = k.link_id \
         WHERE k.id > ?1 ORDER BY k.id LIMIT ?2",
        page.after,
        page.limit
    ), "listing codes").await?;
    let ids = rows.iter().map(|r| r.id).collect();
    let views = rows
        .into_iter()
        .map(|r| {
            CodeView::new(
                r.code,
                r.handle,
                r.campaign,
                r.link,
                r.description,
                r.created_at,
            )
        })
        .collect();
    Ok((views, ids))
}

row! {
    struct OwnerRow {
        influencer_id: i64,
    }
}

/// The influencer id that owns a code, if the code is registered.
pub async fn code_owner(db: &D1Database, code: &PromoCode) -> Result<Option<i64>> {
    let row: Option<OwnerRow> = first(
        query!(
            db,
            "SELECT influencer_id FROM codes WHERE code = ?1",
            code.as_str()
        ),
        "looking up code",
    )
    .await?;
    Ok(row.map(|r| r.influencer_id))
}

/// The influencer id of a link.
pub async fn link_influencer(db: &D1Database, link_id: i64) -> Result<Option<i64>> {
    let row: Option<OwnerRow> = first(
        query!(db, "SELECT influencer_id FROM links WHERE id = ?1", link_id),
        "looking up link owner",
    )
    .await?;
    Ok(row.map(|r| r.influencer_id))
}

/// The link `GET /c/{code}` goes to: the code's own link; else the newest
/// active link of the code's influencer that carries the code; else the
/// newest active link of that influencer (in the code's campaign, if set).
pub async fn link_for_code(db: &D1Database, code: &PromoCode) -> Result<Option<LinkRecord>> {
    let row: Option<LinkRow> = first(query!(
        db,
        &format!(
            "{LINK_SELECT} WHERE l.id = (SELECT COALESCE(k.link_id, \
               (SELECT x.id FROM links x WHERE x.influencer_id = k.influencer_id AND x.status = 'active' \
                  AND x.discount_code = k.code ORDER BY x.id DESC LIMIT 1), \
               (SELECT x.id FROM links x WHERE x.influencer_id = k.influencer_id AND x.status = 'active' \
                  AND (k.campaign_id IS NULL OR x.campaign_id = k.campaign_id) ORDER BY x.id DESC LIMIT 1)) \
             FROM codes k WHERE k.code = ?1)"
        ),
        code.as_str()
    ), "resolving code").await?;
    row.map(to_record).transpose()
}

/// The salt of UTC day `day`: the stored one, or `fresh` when the day has
/// none yet (one batch, so concurrent isolates agree on the first).
pub async fn daily_salt(db: &D1Database, day: i64, fresh: &str) -> Result<String> {
    row! {
        struct SaltRow {
            salt: String,
        }
    }
    let statements = vec![
        stmt(
            query!(
                db,
                "INSERT INTO daily_salts (day, salt) VALUES (?1, ?2) ON CONFLICT(day) DO NOTHING",
                day,
                fresh
            ),
            "binding salt insert",
        )?,
        stmt(
            query!(db, "SELECT salt FROM daily_salts WHERE day = ?1", day),
            "binding salt read",
        )?,
    ];
    let results = batch(db, statements, "reading the day's salt").await?;
    let rows: Vec<SaltRow> = results
        .last()
        .map(|r| r.rows())
        .transpose()
        .map_err(unavailable("decoding the salt"))?
        .unwrap_or_default();
    rows.into_iter()
        .next()
        .map(|r| r.salt)
        .ok_or(ApiError::Unavailable)
}

/// Deletes the salts of days before `today`: anonymous visitor ids of
/// those days can no longer be recomputed.
pub async fn delete_old_salts(db: &D1Database, today: i64) -> Result<usize> {
    let delete = stmt(
        query!(db, "DELETE FROM daily_salts WHERE day < ?1", today),
        "binding salt delete",
    )?;
    let results = batch(db, vec![delete], "deleting old salts").await?;
    Ok(results.first().and_then(|r| r.meta().changes).unwrap_or(0))
}

/// Deletes up to `limit` raw clicks (and link misses) older than `cutoff`
/// that the rollups have seen and that no conversion waiting for
/// attribution names; returns how many clicks went. Credits and rollups
/// stay. The newest row is never deleted, so SQLite never hands its rowid
/// out again (the rollup's watermark is a rowid).
pub async fn prune_clicks(db: &D1Database, cutoff: Millis, limit: u32) -> Result<usize> {
    let statements = vec![
        stmt(
            query!(
                db,
                "DELETE FROM clicks WHERE rowid IN (\
                   SELECT k.rowid FROM clicks k WHERE k.ts < ?1 \
                      AND k.rowid <= (SELECT click_rollup_rowid FROM attribution_state WHERE id = 1) \
                      AND k.rowid < (SELECT MAX(rowid) FROM clicks) \
                      AND NOT EXISTS (SELECT 1 FROM conversions c WHERE c.click_id = k.id AND c.attributed_at IS NULL) \
                    ORDER BY k.ts LIMIT ?2)",
                cutoff,
                limit
            ),
            "binding click prune",
        )?,
        stmt(
            query!(
                db,
                "DELETE FROM link_misses WHERE rowid IN (SELECT rowid FROM link_misses WHERE ts < ?1 LIMIT ?2)",
                cutoff,
                limit
            ),
            "binding miss prune",
        )?,
        stmt(
            query!(
                db,
                "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE received_at < ?1 LIMIT ?2)",
                cutoff,
                limit
            ),
            "binding event prune",
        )?,
    ];
    let results = batch(db, statements, "pruning old clicks").await?;
    Ok(results.first().and_then(|r| r.meta().changes).unwrap_or(0))
}

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
        query!(
            db,
            "SELECT key, person_id FROM identities WHERE person_id IN \
               (SELECT person_id FROM identities WHERE key IN ('v:' || ?1, 'c:' || ?1))",
            id
        ),
        "reading the person's identities",
    )
    .await?;
    let mut persons: Vec<&str> = keys.iter().map(|k| k.person_id.as_str()).collect();
    crate::base::sorting::sort(&mut persons);
    persons.dedup();
    let key_list: Vec<String> = keys.iter().map(|k| k.key.clone()).collect();
    let plan = crate::ingest::identity::Erasure::plan(id, &key_list);
    // Storefront events: the snippet's own visitor id, or any click of the
    // person's visitors (before the clicks are moved to fresh ids).
    let mut writes = vec![stmt(
        query!(
            db,
            "DELETE FROM events WHERE visitor_key = 'v:' || ?1 \
                OR click_id IN (SELECT id FROM clicks WHERE visitor_id IN (SELECT value FROM json_each(?2)))",
            id,
            json_text(&plan.visitors)
        ),
        "binding event erasure",
    )?];
    for v in &plan.visitors {
        writes.push(stmt(
            query!(
                db,
                "UPDATE clicks SET visitor_id = ?2, ad_click_ids = NULL WHERE visitor_id = ?1",
                v,
                fresh_visitor()
            ),
            "binding click erasure",
        )?);
    }
    let (visitors, customers, emails) = (
        json_text(&plan.visitors),
        json_text(&plan.customers),
        json_text(&plan.emails),
    );
    writes.push(stmt(
        query!(
            db,
            "UPDATE conversions SET visitor_id = NULL, customer_id = NULL, email_sha256 = NULL \
             WHERE visitor_id IN (SELECT value FROM json_each(?1)) OR customer_id IN (SELECT value FROM json_each(?2)) \
                OR email_sha256 IN (SELECT value FROM json_each(?3))",
            &visitors,
            &customers,
            &emails
        ),
        "binding conversion erasure",
    )?);
    writes.push(stmt(
        query!(
            db,
            "UPDATE touchpoints SET visitor_id = NULL, customer_id = NULL \
             WHERE visitor_id IN (SELECT value FROM json_each(?1)) OR customer_id IN (SELECT value FROM json_each(?2))",
            &visitors,
            &customers
        ),
        "binding touchpoint erasure",
    )?);
    writes.push(stmt(
        query!(
            db,
            "DELETE FROM identities WHERE person_id IN (SELECT value FROM json_each(?1)) \
                OR key IN ('v:' || ?2, 'c:' || ?2)",
            json_text(&persons),
            id
        ),
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

/// Keeps a link's latest check.
pub async fn save_link_check(
    db: &D1Database,
    link_id: i64,
    at: Millis,
    ok: bool,
    reasons: &str,
    results: &str,
) -> Result<()> {
    run(
        query!(
            db,
            "INSERT INTO link_checks (link_id, checked_at, ok, reasons, results) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT(link_id) DO UPDATE SET checked_at = excluded.checked_at, ok = excluded.ok, \
               reasons = excluded.reasons, results = excluded.results",
            link_id,
            at,
            i64::from(ok),
            reasons,
            results
        ),
        "saving a link check",
    )
    .await
}

/// A link's latest check: `(checked_at, ok, reasons JSON, results JSON)`.
pub async fn load_link_check(
    db: &D1Database,
    link_id: i64,
) -> Result<Option<(Millis, bool, String, String)>> {
    row! {
        struct CheckRow {
            checked_at: Millis,
            ok: i64,
            reasons: String,
            results: String,
        }
    }
    let row: Option<CheckRow> = first(
        query!(
            db,
            "SELECT checked_at, ok, reasons, results FROM link_checks WHERE link_id = ?1",
            link_id
        ),
        "reading a link check",
    )
    .await?;
    Ok(row.map(|r| (r.checked_at, r.ok != 0, r.reasons, r.results)))
}

/// Up to `limit` active links never checked, or last checked before
/// `before`, oldest check first.
pub async fn links_due_for_check(
    db: &D1Database,
    before: Millis,
    limit: u32,
) -> Result<Vec<LinkRecord>> {
    let rows: Vec<LinkRow> = all(
        query!(
            db,
            &format!(
                "{LINK_SELECT} LEFT JOIN link_checks k ON k.link_id = l.id \
                 WHERE l.status = 'active' AND (k.checked_at IS NULL OR k.checked_at < ?1) \
                 ORDER BY COALESCE(k.checked_at, 0), l.id LIMIT ?2"
            ),
            before,
            limit
        ),
        "finding links due for a check",
    )
    .await?;
    rows.into_iter().map(to_record).collect()
}

/// The links of a JSON array of slugs.
pub async fn links_by_slugs(db: &D1Database, slugs_json: &str) -> Result<Vec<LinkRecord>> {
    let rows: Vec<LinkRow> = all(
        query!(
            db,
            &format!(
                "{LINK_SELECT} WHERE l.slug IN (SELECT value FROM json_each(?1)) ORDER BY l.id"
            ),
            slugs_json
        ),
        "reading imported links",
    )
    .await?;
    rows.into_iter().map(to_record).collect()
}

/// Every link, oldest first (for the spreadsheet export).
pub async fn all_links(db: &D1Database) -> Result<Vec<LinkRecord>> {
    let rows: Vec<LinkRow> = all(
        Ok(query!(db, &format!("{LINK_SELECT} ORDER BY l.id"))),
        "reading every link",
    )
    .await?;
    rows.into_iter().map(to_record).collect()
}

/// Every influencer's handle and profile.
pub async fn all_profiles(db: &D1Database, currency: Currency) -> Result<Vec<(String, Profile)>> {
    let rows: Vec<InfluencerRow> = all(
        Ok(query!(db, &format!("{INFLUENCER_SELECT} ORDER BY id"))),
        "reading the roster",
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.handle.clone(), r.profile(currency)))
        .collect())
}

/// The human clicks stored for a link (for `max_clicks`).
pub async fn human_clicks(db: &D1Database, link_id: i64) -> Result<u64> {
    row! {
        struct N {
            n: u64,
        }
    }
    let row: Option<N> = first(
        query!(
            db,
            "SELECT COUNT(*) AS n FROM clicks WHERE link_id = ?1 AND is_bot = 0",
            link_id
        ),
        "counting a link's clicks",
    )
    .await?;
    Ok(row.map_or(0, |r| r.n))
}

pub async fn insert_miss(
    db: &D1Database,
    link_id: i64,
    ts: Millis,
    reason: &str,
    is_bot: bool,
) -> worker::Result<()> {
    query!(
        db,
        "INSERT INTO link_misses (link_id, ts, reason, is_bot) VALUES (?1, ?2, ?3, ?4)",
        link_id,
        ts,
        reason,
        i64::from(is_bot)
    )?
    .run()
    .await?;
    Ok(())
}

/// Runs a D1 batch (one transaction), retrying transient failures (a busy
/// database, a dropped connection) three times, after 0.1, 0.4 and 1.6 s. Only for
/// batches that are safe to repeat: every batch in this crate is, because
/// inserts are `ON CONFLICT`-guarded and replacements are delete-then-insert.
pub(super) async fn batch(
    db: &D1Database,
    statements: Vec<D1PreparedStatement>,
    what: &'static str,
) -> Result<Vec<D1Out>> {
    let statements = rows::statements(&statements);
    let mut attempt = 0;
    loop {
        match rows::batch(db, &statements).await {
            Ok(results) => return Ok(results),
            Err(e) if attempt < 3 => {
                attempt += 1;
                worker::console_warn!("{what}: attempt {attempt} failed ({e}); retrying");
                worker::Delay::from(std::time::Duration::from_millis(25 * 4u64.pow(attempt))).await;
            }
            Err(e) => return Err(unavailable(what)(e)),
        }
    }
}

/// Like [`all`], and adds the rows D1 read to `rows_read`.
pub(super) async fn all_metered<T: FromRow>(
    stmt: worker::Result<D1PreparedStatement>,
    what: &'static str,
    rows_read: &mut usize,
) -> Result<Vec<T>> {
    let r = out(stmt, what).await?;
    *rows_read += r.meta().rows_read.unwrap_or(0);
    r.rows().map_err(unavailable(what))
}
