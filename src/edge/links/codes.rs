//! Discount codes in D1: creating one (its owner checked), listing them,
//! the link a code leads to (`/c/{code}`), and who owns a code or a link.

use crate::base::error::{ApiError, ParseError};
use crate::base::pagination::Page;
use crate::base::time::Millis;
use crate::edge::d1::{all, first, query, row, IdRow};
use crate::edge::http::conflict;
use crate::edge::links::sql::LIST_CODES_SQL;
use crate::edge::now;
use crate::links::code::{CodeView, NewCode, PromoCode};
use crate::links::slug::Slug;
use crate::links::utm_names::CampaignSlug;
use worker::{D1Database, Response};

type Result<T> = std::result::Result<T, ApiError>;

row! {
    struct CodeRefsRow {
        influencer_id: Option<i64>,
        campaign_id: Option<i64>,
        link_id: Option<i64>,
        link_influencer_id: Option<i64>,
    }

    struct CodeRow {
        id: i64,
        code: String,
        handle: String,
        campaign: Option<String>,
        link: Option<String>,
        description: Option<String>,
        created_at: Millis,
    }

    pub struct OwnerRow {
        pub influencer_id: i64,
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

pub async fn list_codes(db: &D1Database, page: Page) -> Result<(Vec<CodeView>, Vec<i64>)> {
    let rows: Vec<CodeRow> = all(
        query!(db, LIST_CODES_SQL, page.after, page.limit),
        "listing codes",
    )
    .await?;
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

/// A link's `discount_code` must be a registered code of its influencer.
pub async fn check_code_owner(
    db: &D1Database,
    code: &PromoCode,
    influencer_id: Option<i64>,
) -> Result<()> {
    match crate::edge::links::codes::code_owner(db, code).await? {
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

pub async fn create_code(db: &D1Database, body: &NewCode) -> Result<Response> {
    let refs = crate::edge::links::codes::code_refs(db, body).await?;
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
    match crate::edge::links::codes::insert_code(
        db,
        body,
        influencer_id,
        campaign_id,
        link_id,
        now(),
    )
    .await?
    {
        Some(view) => crate::edge::http::json(201, &view),
        None => Err(conflict(
            "code_taken",
            "code",
            format!("code {} already exists", body.code),
        )),
    }
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
