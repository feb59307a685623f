//! Writing links: inserting one (its influencer, campaign and code
//! resolved by name), updating one, and the bulk edits.

use crate::base::error::{ApiError, ParseError};
use crate::base::time::Millis;
use crate::edge::d1::{all, batch, first, json_text, query, row, stmt, IdRow};
use crate::edge::links::link_rows::{to_record, LinkRow};
use crate::edge::links::sql::LINK_SELECT;
use crate::links::bulk::{BulkAction, BulkEdit, BULK_MAX};
use crate::links::code::PromoCode;
use crate::links::destination::Destination;
use crate::links::discount::{DiscountStyle, ParamName};
use crate::links::link::{Format, LinkRecord, LinkStatus, NewLink};
use crate::links::slug::Slug;
use crate::links::utm_names::{CampaignSlug, Handle, Platform, Tag, UtmValue};
use worker::D1Database;

type Result<T> = std::result::Result<T, ApiError>;

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
