//! Reading links: the `links` row turned into a [`LinkRecord`] through the
//! core's validated types (a corrupt row is reported, not served), one by
//! slug, a page of them, or all.

use crate::base::error::ApiError;
#[cfg(full)]
use crate::base::pagination::Page;
use crate::base::time::Millis;
#[cfg(full)]
use crate::edge::d1::all;
use crate::edge::d1::{first, query, row};
use crate::edge::http::unavailable;
#[cfg(full)]
use crate::edge::links::sql::list_links_sql;
use crate::edge::links::sql::LINK_SELECT;
use crate::links::code::PromoCode;
use crate::links::destination::Destination;
use crate::links::discount::{DiscountSetting, DiscountStyle, ParamName};
use crate::links::link::{
    parse_tags, ContentPiece, Format, Limits, LinkRecord, LinkStatus, Routing,
};
use crate::links::slug::Slug;
use crate::links::targeting;
#[cfg(full)]
use crate::links::utm_names::Tag;
use crate::links::utm_names::{CampaignSlug, Handle, Platform, UtmValue};
use worker::D1Database;

type Result<T> = std::result::Result<T, ApiError>;

row! {
    pub struct LinkRow {
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

pub fn to_record(row: LinkRow) -> Result<LinkRecord> {
    LinkRecord::try_from(row).map_err(unavailable("corrupt link row"))
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
#[cfg(full)]
pub async fn list_links(db: &D1Database, page: Page, tag: Option<&Tag>) -> Result<Vec<LinkRecord>> {
    let rows: Vec<LinkRow> = all(
        query!(
            db,
            &list_links_sql(),
            page.after,
            page.limit,
            tag.map(Tag::as_str)
        ),
        "listing links",
    )
    .await?;
    rows.into_iter().map(to_record).collect()
}

/// The links of a JSON array of slugs.
#[cfg(full)]
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
#[cfg(full)]
pub async fn all_links(db: &D1Database) -> Result<Vec<LinkRecord>> {
    let rows: Vec<LinkRow> = all(
        Ok(query!(db, &format!("{LINK_SELECT} ORDER BY l.id"))),
        "reading every link",
    )
    .await?;
    rows.into_iter().map(to_record).collect()
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
