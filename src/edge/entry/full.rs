//! The full worker's entry points: `fetch`, which dispatches every
//! [`Route`] to its domain; `scheduled` (every minute: webhook deliveries;
//! every 15 minutes: spilled clicks drained, then attribution,
//! housekeeping, link checks and webhooks); and `queue` (the click queue's
//! consumer).

use crate::base::error::ApiError;
use crate::base::route::{route, Method, Route};
use crate::edge::{
    attribution, config, http, ingest, links, now, outbound, reporting, roster, traffic, DB,
};
use crate::traffic::group_commit::ClickRow;
use worker::{
    console_error, event, Context, Env, MessageBatch, Request, Response, Result, ScheduleContext,
    ScheduledEvent,
};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let method = Method::parse(req.method().as_ref());
    let path = req.path();
    let outcome = match route(method, &path) {
        Route::Redirect(slug) => {
            return links::redirect::link(&req, &env, &ctx, slug, method).await
        }
        Route::CodeRedirect(code) => {
            return links::redirect::code(&req, &env, &ctx, code, method).await
        }
        Route::NotFound => return links::redirect::not_found_page(),
        Route::Dashboard => return reporting::dashboard::dashboard(req, &env).await,
        Route::DashboardLogin => return reporting::dashboard::login(req, &env).await,
        Route::OpenApi => return openapi(),
        Route::Snippet => return traffic::storefront::snippet(),
        Route::TrackEvent => return traffic::storefront::track(req, &env).await,
        Route::EventsPreflight => traffic::storefront::preflight(&req, &env),
        Route::Health => http::json(200, &serde_json::json!({"status": "ok"})),
        Route::ApiNotFound => Err(ApiError::NotFound { what: "route" }),
        Route::MethodNotAllowed => Err(ApiError::MethodNotAllowed),
        r @ (Route::CreateConversion
        | Route::ConversionBatch
        | Route::GetConversion(_)
        | Route::RefundConversion(_)
        | Route::CreateTouchpoint
        | Route::ShopifyWebhook
        | Route::GetJourney(_)) => ingest::api::handle(req, &env, r).await,
        r @ (Route::CreateCost
        | Route::ListCosts
        | Route::DeleteCost(_)
        | Route::PutRate
        | Route::ListRates
        | Route::PatchCampaign(_)
        | Route::Report
        | Route::Ranking
        | Route::Ltv) => reporting::api::handle(req, &env, r).await,
        r @ (Route::RunAttribution
        | Route::RebuildRollups
        | Route::AttributionStatus
        | Route::Quality) => attribution::api::handle(req, &env, r).await,
        r @ (Route::CreateWebhookEndpoint
        | Route::ListWebhookEndpoints
        | Route::DeleteWebhookEndpoint(_)
        | Route::ListDeliveries
        | Route::ReplayDelivery(_)) => outbound::endpoints::handle(req, &env, r).await,
        r @ (Route::CreateInfluencer
        | Route::GetInfluencer(_)
        | Route::PatchInfluencer(_)
        | Route::ListInfluencers
        | Route::CreateCampaign
        | Route::ListCampaigns
        | Route::ImportCsv) => roster::api::handle(req, &env, r).await,
        r @ (Route::Payouts | Route::ClosePayout(_)) => {
            reporting::payouts::handle(req, &env, r).await
        }
        r @ Route::ExportLinks => reporting::export::handle(req, &env, r).await,
        r @ Route::ErasePerson(_) => ingest::erasure::handle(req, &env, r).await,
        links => links::api::handle(req, &env, links).await,
    };
    match outcome {
        Ok(resp) => Ok(resp),
        Err(e) => http::error_response(&e),
    }
}

/// The every-minute cron: only webhook deliveries are due that often.
pub const DELIVERY_CRON: &str = "* * * * *";

/// The cron triggers: every minute, webhook deliveries; otherwise one
/// bounded attribution run, housekeeping, link checks and deliveries.
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    if event.cron() == DELIVERY_CRON {
        outbound::delivery::scheduled(&env).await;
        return;
    }
    let config = config(&env);
    let db = match env.d1(DB) {
        Ok(db) => db,
        Err(e) => {
            console_error!("scheduled attribution: no D1 binding: {e}");
            return;
        }
    };
    // Clicks a failed group commit spilled to KV first, so attribution sees them.
    if let Err(e) = traffic::group_commit::drain_spills(&env, &db).await {
        console_error!("scheduled: draining spilled clicks failed: {e}");
    }
    if let Err(e) =
        attribution::run::run(&db, &config, now(), &format!("cron {}", event.cron())).await
    {
        console_error!("scheduled attribution failed: {e}");
    }
    // After the run, so pruned clicks are rolled up and attributed first.
    traffic::privacy::housekeeping(&db, &config, now()).await;
    // The daily re-check of every active link, a few links per run.
    links::check::scheduled(&env).await;
    // Conversions this run attributed, refunds and broken links, out.
    outbound::delivery::scheduled(&env).await;
}

/// The click queue's consumer (when a `CLICKS` queue is configured).
#[event(queue)]
async fn queue(batch: MessageBatch<ClickRow>, env: Env, _ctx: Context) -> Result<()> {
    traffic::group_commit::consume(batch, &env).await
}

/// The OpenAPI 3.1 description of the whole API.
/// (Minified from `src/openapi.json` by `build.rs`.)
pub const OPENAPI: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.min.json"));

fn openapi() -> Result<Response> {
    let resp = Response::ok(OPENAPI)?;
    resp.headers().set("Content-Type", "application/json")?;
    resp.headers().set("Cache-Control", "public, max-age=300")?;
    Ok(resp)
}
