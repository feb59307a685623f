//! D1 access: every SQL statement the worker runs lives here.
//!
//! Rows are read into plain `*Row` structs and turned into core types with
//! `TryFrom`, re-validating through the newtypes' `parse()`, so a corrupt
//! row is reported instead of being served.

use super::http::unavailable;
use crate::click::{Click, LinkStats};
use crate::destination::Destination;
use crate::error::ApiError;
use crate::link::{LinkRecord, LinkStatus, NewLink};
use crate::names::{CampaignSlug, Handle, Platform, UtmValue};
use crate::page::Page;
use crate::roster::{CampaignView, InfluencerView, NewCampaign, NewInfluencer};
use crate::slug::Slug;
use crate::time::Millis;
use serde::Deserialize;
use worker::{query, D1Database};

type Result<T> = std::result::Result<T, ApiError>;

const LINK_SELECT: &str = "SELECT l.id, l.slug, l.destination, i.handle, c.slug AS campaign, \
     l.content, l.platform, l.utm_medium, l.utm_term, l.status, l.expires_at, l.created_at, l.updated_at \
     FROM links l JOIN influencers i ON i.id = l.influencer_id JOIN campaigns c ON c.id = l.campaign_id";

#[derive(Deserialize)]
struct IdRow {
    id: i64,
}

#[derive(Deserialize)]
struct InfluencerRow {
    id: i64,
    handle: String,
    name: Option<String>,
    platform: Option<String>,
    created_at: Millis,
}

#[derive(Deserialize)]
struct CampaignRow {
    id: i64,
    slug: String,
    name: Option<String>,
    created_at: Millis,
}

#[derive(Deserialize)]
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
    created_at: Millis,
    updated_at: Millis,
}

impl TryFrom<LinkRow> for LinkRecord {
    type Error = String;

    fn try_from(r: LinkRow) -> std::result::Result<Self, String> {
        let id = r.id;
        let bad = |what: &'static str| {
            move |e: crate::error::ParseError| format!("link row {id}: {what}: {}", e.message)
        };
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
            expires_at: r.expires_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn to_record(row: LinkRow) -> Result<LinkRecord> {
    LinkRecord::try_from(row).map_err(unavailable("corrupt link row"))
}

/// Inserts an influencer; `None` when the handle is taken.
pub async fn insert_influencer(
    db: &D1Database,
    i: &NewInfluencer,
    now: Millis,
) -> Result<Option<InfluencerView>> {
    let platform = i.platform.map(Platform::as_str);
    let row: Option<IdRow> = query!(
        db,
        "INSERT INTO influencers (handle, name, platform, created_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT(handle) DO NOTHING RETURNING id",
        i.handle.as_str(),
        i.name.as_deref(),
        platform,
        now
    )
    .map_err(unavailable("binding influencer insert"))?
    .first(None)
    .await
    .map_err(unavailable("inserting influencer"))?;
    Ok(row.map(|_| {
        InfluencerView::new(
            i.handle.as_str().to_owned(),
            i.name.clone(),
            platform.map(str::to_owned),
            now,
        )
    }))
}

pub async fn list_influencers(
    db: &D1Database,
    page: Page,
) -> Result<(Vec<InfluencerView>, Vec<i64>)> {
    let rows: Vec<InfluencerRow> = query!(
        db,
        "SELECT id, handle, name, platform, created_at FROM influencers WHERE id > ?1 ORDER BY id LIMIT ?2",
        page.after,
        page.limit
    )
    .map_err(unavailable("binding influencer list"))?
    .all()
    .await
    .and_then(|r| r.results())
    .map_err(unavailable("listing influencers"))?;
    let ids = rows.iter().map(|r| r.id).collect();
    let views = rows
        .into_iter()
        .map(|r| InfluencerView::new(r.handle, r.name, r.platform, r.created_at))
        .collect();
    Ok((views, ids))
}

/// Inserts a campaign; `None` when the slug is taken.
pub async fn insert_campaign(
    db: &D1Database,
    c: &NewCampaign,
    now: Millis,
) -> Result<Option<CampaignView>> {
    let row: Option<IdRow> = query!(
        db,
        "INSERT INTO campaigns (slug, name, created_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT(slug) DO NOTHING RETURNING id",
        c.slug.as_str(),
        c.name.as_deref(),
        now
    )
    .map_err(unavailable("binding campaign insert"))?
    .first(None)
    .await
    .map_err(unavailable("inserting campaign"))?;
    Ok(row.map(|_| CampaignView::new(c.slug.as_str().to_owned(), c.name.clone(), now)))
}

pub async fn list_campaigns(db: &D1Database, page: Page) -> Result<(Vec<CampaignView>, Vec<i64>)> {
    let rows: Vec<CampaignRow> = query!(
        db,
        "SELECT id, slug, name, created_at FROM campaigns WHERE id > ?1 ORDER BY id LIMIT ?2",
        page.after,
        page.limit
    )
    .map_err(unavailable("binding campaign list"))?
    .all()
    .await
    .and_then(|r| r.results())
    .map_err(unavailable("listing campaigns"))?;
    let ids = rows.iter().map(|r| r.id).collect();
    let views = rows
        .into_iter()
        .map(|r| CampaignView::new(r.slug, r.name, r.created_at))
        .collect();
    Ok((views, ids))
}

#[derive(Deserialize)]
struct RefsRow {
    influencer_id: Option<i64>,
    campaign_id: Option<i64>,
}

/// The ids of an influencer handle and a campaign slug, in one query.
pub async fn resolve_refs(
    db: &D1Database,
    handle: &Handle,
    campaign: &CampaignSlug,
) -> Result<(Option<i64>, Option<i64>)> {
    let row: Option<RefsRow> = query!(
        db,
        "SELECT (SELECT id FROM influencers WHERE handle = ?1) AS influencer_id, \
                (SELECT id FROM campaigns WHERE slug = ?2) AS campaign_id",
        handle.as_str(),
        campaign.as_str()
    )
    .map_err(unavailable("binding reference lookup"))?
    .first(None)
    .await
    .map_err(unavailable("looking up influencer and campaign"))?;
    Ok(row.map_or((None, None), |r| (r.influencer_id, r.campaign_id)))
}

/// Inserts a link under `slug`; `None` when the slug is taken.
pub async fn insert_link(
    db: &D1Database,
    l: &NewLink,
    slug: &Slug,
    influencer_id: i64,
    campaign_id: i64,
    now: Millis,
) -> Result<Option<i64>> {
    let row: Option<IdRow> = query!(
        db,
        "INSERT INTO links (slug, destination, influencer_id, campaign_id, content, platform, utm_medium, \
                            utm_term, status, expires_at, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'active', NULL, ?9, ?9) \
         ON CONFLICT(slug) DO NOTHING RETURNING id",
        slug.as_str(),
        l.destination.as_str(),
        influencer_id,
        campaign_id,
        l.content.as_ref().map(UtmValue::as_str),
        l.platform.map(Platform::as_str),
        l.utm_medium.as_str(),
        l.utm_term.as_ref().map(UtmValue::as_str),
        now
    )
    .map_err(unavailable("binding link insert"))?
    .first(None)
    .await
    .map_err(unavailable("inserting link"))?;
    Ok(row.map(|r| r.id))
}

pub async fn load_link(db: &D1Database, slug: &Slug) -> Result<Option<LinkRecord>> {
    let row: Option<LinkRow> = query!(
        db,
        &format!("{LINK_SELECT} WHERE l.slug = ?1"),
        slug.as_str()
    )
    .map_err(unavailable("binding link lookup"))?
    .first(None)
    .await
    .map_err(unavailable("loading link"))?;
    row.map(to_record).transpose()
}

pub async fn list_links(db: &D1Database, page: Page) -> Result<Vec<LinkRecord>> {
    let rows: Vec<LinkRow> = query!(
        db,
        &format!("{LINK_SELECT} WHERE l.id > ?1 ORDER BY l.id LIMIT ?2"),
        page.after,
        page.limit
    )
    .map_err(unavailable("binding link list"))?
    .all()
    .await
    .and_then(|r| r.results())
    .map_err(unavailable("listing links"))?;
    rows.into_iter().map(to_record).collect()
}

/// Writes a link's mutable fields back.
pub async fn update_link(db: &D1Database, l: &LinkRecord) -> Result<()> {
    query!(
        db,
        "UPDATE links SET destination = ?1, status = ?2, expires_at = ?3, updated_at = ?4 WHERE id = ?5",
        l.destination.as_str(),
        l.status.as_str(),
        l.expires_at,
        l.updated_at,
        l.id
    )
    .map_err(unavailable("binding link update"))?
    .run()
    .await
    .map_err(unavailable("updating link"))?;
    Ok(())
}

pub async fn insert_click(db: &D1Database, c: &Click) -> worker::Result<()> {
    query!(
        db,
        "INSERT INTO clicks (id, link_id, ts, visitor_id, ua_family, country, referer_host) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(id) DO NOTHING",
        c.id.as_str(),
        c.link_id,
        c.ts,
        c.visitor_id.as_str(),
        c.ua_family,
        c.country.as_deref(),
        c.referer_host.as_deref()
    )?
    .run()
    .await?;
    Ok(())
}

#[derive(Deserialize)]
struct StatsRow {
    clicks: u64,
    unique_visitors: u64,
    first_click: Option<Millis>,
    last_click: Option<Millis>,
}

pub async fn link_stats(db: &D1Database, link_id: i64) -> Result<LinkStats> {
    let row: Option<StatsRow> = query!(
        db,
        "SELECT COUNT(*) AS clicks, COUNT(DISTINCT visitor_id) AS unique_visitors, \
                MIN(ts) AS first_click, MAX(ts) AS last_click FROM clicks WHERE link_id = ?1",
        link_id
    )
    .map_err(unavailable("binding stats query"))?
    .first(None)
    .await
    .map_err(unavailable("reading link stats"))?;
    Ok(row.map_or_else(
        || LinkStats::new(0, 0, None, None),
        |r| LinkStats::new(r.clicks, r.unique_visitors, r.first_click, r.last_click),
    ))
}
