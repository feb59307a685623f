//! The admin API of the roster: influencers (create, read, patch, list),
//! campaigns, and `POST /api/v1/import`.

use crate::base::error::{ApiError, ParseError};
use crate::base::pagination::{next_cursor, Page};
use crate::base::route::Route;
use crate::edge::auth::Admin;
use crate::edge::http::{conflict, read_json};
use crate::edge::now;
use crate::links::utm_names::Handle;
use crate::roster::influencers::{
    InfluencerView, NewCampaign, NewInfluencer, ProfilePatch, PROFILE_FIELDS,
};
use serde_json::json;
use url::form_urlencoded;
use worker::{Env, Request, Response};

type Result<T> = std::result::Result<T, ApiError>;

/// The admin API of influencers and campaigns, and the spreadsheet import.
pub async fn handle(mut req: Request, env: &Env, route: Route<'_>) -> Result<Response> {
    let Admin {
        db, config, query, ..
    } = Admin::from_request(&req, env)?;
    match route {
        Route::CreateInfluencer => {
            let currency = config.reporting_currency;
            let body = NewInfluencer::from_json(&read_json(&mut req).await?, currency)?;
            let now = now();
            if crate::edge::roster::records::insert_influencer(&db, &body, now).await? {
                let view = InfluencerView::new(
                    body.handle.as_str().to_owned(),
                    &body.profile,
                    &config.tiers,
                    now,
                );
                crate::edge::http::json(201, &view)
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
            let (mut profile, created_at) =
                crate::edge::roster::records::load_influencer(&db, &handle, currency)
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
                crate::edge::roster::records::update_influencer(&db, &handle, &profile).await?;
            }
            let view = InfluencerView::new(
                handle.as_str().to_owned(),
                &profile,
                &config.tiers,
                created_at,
            );
            crate::edge::http::json(200, &view)
        }
        Route::ListInfluencers => {
            let page = Page::from_query(&query)?;
            let (items, ids) = crate::edge::roster::records::list_influencers(
                &db,
                page,
                config.reporting_currency,
                &config.tiers,
            )
            .await?;
            crate::edge::http::json(
                200,
                &json!({"influencers": items, "next_cursor": next_cursor(&ids, page)}),
            )
        }
        Route::CreateCampaign => {
            let body = NewCampaign::from_json(&read_json(&mut req).await?)?;
            match crate::edge::roster::records::insert_campaign(&db, &body, now()).await? {
                Some(view) => crate::edge::http::json(201, &view),
                None => Err(conflict(
                    "slug_taken",
                    "slug",
                    format!("campaign '{}' already exists", body.slug),
                )),
            }
        }
        Route::ListCampaigns => {
            let page = Page::from_query(&query)?;
            let (items, ids) = crate::edge::roster::records::list_campaigns(&db, page).await?;
            crate::edge::http::json(
                200,
                &json!({"campaigns": items, "next_cursor": next_cursor(&ids, page)}),
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
            let text = crate::edge::http::read_csv(&mut req).await?;
            crate::edge::roster::import::import(env, &db, &config, &text, dry_run).await
        }
        _ => Err(ApiError::NotFound { what: "route" }),
    }
}
