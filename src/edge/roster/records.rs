//! Influencers and campaigns in D1: their rows read back through the
//! core's validated types, inserts and updates, and pages of them.

use crate::base::error::ApiError;
use crate::base::money::{Currency, Money};
use crate::base::pagination::Page;
use crate::base::time::Millis;
use crate::edge::d1::{all, first, query, row, IdRow};
use crate::links::discount::{DiscountStyle, ParamName};
use crate::links::utm_names::{Handle, Platform, UtmValue};
use crate::roster::influencers::{
    CampaignView, Contract, InfluencerView, NewCampaign, NewInfluencer, Profile, Tiers,
};
use worker::D1Database;

type Result<T> = std::result::Result<T, ApiError>;

const INFLUENCER_SELECT: &str = "SELECT id, handle, name, platform, follower_count, niche, contact_email, \
     base_fee_minor, bonus_minor, revenue_share_bp, contract_start, contract_end, created_at FROM influencers";

row! {
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
}

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
    use crate::edge::d1::Param;
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
    use crate::edge::d1::Param;
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
    use crate::edge::d1::Param;
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
    crate::edge::d1::run(db.prepare(&sql).bind(&args), "updating influencer").await
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
