//! The edge shell: the Workers entry point. Compiled only for `wasm32`.
//!
//! It reads the request, routes it with the core's [`route`], calls the
//! core, and talks to KV and D1. It is the only place that reads the clock
//! ([`now`]) or draws random bytes ([`random`]). Handlers return
//! `Result<Response, ApiError>`; [`http::error_response`] maps errors to
//! statuses, so no bad input can ever surface as a 500.

// The redirect worker (feature `redirect-only`) compiles the same modules
// but reaches only the redirect path; the rest is dead there, and left out
// of its wasm by the linker.
#![cfg_attr(feature = "redirect-only", allow(dead_code, unused_imports))]

mod admin;
mod attrib;
mod auth;
mod cache;
mod check;
mod clicks;
mod events;
mod http;
mod ingest;
mod ledger;
mod payouts;
mod privacy;
mod random;
mod redirect;
mod reports;
mod rows;
mod sheet;
mod store;
mod webhooks;

use crate::base::error::ApiError;
use crate::base::route::{route, Method, Route};
use crate::base::time::Millis;
use crate::config::Config;
use crate::traffic::group_commit::ClickRow;
use worker::{
    console_error, event, Context, Env, MessageBatch, Request, Response, Result, ScheduleContext,
    ScheduledEvent,
};

/// Binding names, as in `wrangler.toml`.
pub const DB: &str = "DB";
pub const LINKS_KV: &str = "LINKS";

/// The current time. The only clock read in the crate.
pub fn now() -> Millis {
    worker::Date::now().as_millis() as Millis
}

/// The configuration from `[vars]`. A bad value is logged and the defaults
/// are used, so a typo in a var degrades to default behaviour, not an outage.
///
/// Vars are fixed for the life of an isolate, so they are read and parsed
/// once per isolate, not on every request (the redirect is the hot path).
pub fn config(env: &Env) -> Config {
    thread_local! {
        static CONFIG: std::cell::OnceCell<Config> = const { std::cell::OnceCell::new() };
    }
    CONFIG.with(|c| {
        c.get_or_init(|| {
            Config::from_vars(|name| env.var(name).ok().map(|v| v.to_string())).unwrap_or_else(
                |(var, e)| {
                    console_error!("config: {var}: {}; using defaults", e.message);
                    Config::default()
                },
            )
        })
        .clone()
    })
}

/// The full worker's service binding, in the redirect worker's config.
#[cfg(feature = "redirect-only")]
pub const APP: &str = "APP";

/// The redirect worker: links, codes and the health check here; every
/// other request goes to the full worker, untouched.
#[cfg(feature = "redirect-only")]
#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let method = Method::parse(req.method().as_ref());
    let path = req.path();
    match route(method, &path) {
        Route::Redirect(slug) => redirect::link(&req, &env, &ctx, slug, method).await,
        Route::CodeRedirect(code) => redirect::code(&req, &env, &ctx, code, method).await,
        Route::NotFound => redirect::not_found_page(),
        Route::Health => Response::from_json(&serde_json::json!({"status": "ok"})),
        _ => env.service(APP)?.fetch_request(req).await,
    }
}

#[cfg(not(feature = "redirect-only"))]
#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let method = Method::parse(req.method().as_ref());
    let path = req.path();
    let outcome = match route(method, &path) {
        Route::Redirect(slug) => return redirect::link(&req, &env, &ctx, slug, method).await,
        Route::CodeRedirect(code) => return redirect::code(&req, &env, &ctx, code, method).await,
        Route::NotFound => return redirect::not_found_page(),
        Route::Dashboard => return reports::dashboard(req, &env).await,
        Route::DashboardLogin => return reports::login(req, &env).await,
        Route::OpenApi => return openapi(),
        Route::Snippet => return events::snippet(),
        Route::TrackEvent => return events::track(req, &env).await,
        Route::EventsPreflight => events::preflight(&req, &env),
        Route::Health => http::json(200, &serde_json::json!({"status": "ok"})),
        Route::ApiNotFound => Err(ApiError::NotFound { what: "route" }),
        Route::MethodNotAllowed => Err(ApiError::MethodNotAllowed),
        r @ (Route::CreateConversion
        | Route::ConversionBatch
        | Route::GetConversion(_)
        | Route::RefundConversion(_)
        | Route::CreateTouchpoint
        | Route::ShopifyWebhook
        | Route::GetJourney(_)) => ingest::handle(req, &env, r).await,
        r @ (Route::CreateCost
        | Route::ListCosts
        | Route::DeleteCost(_)
        | Route::PutRate
        | Route::ListRates
        | Route::PatchCampaign(_)
        | Route::Report
        | Route::Ranking
        | Route::Ltv) => reports::handle(req, &env, r).await,
        r @ (Route::RunAttribution
        | Route::RebuildRollups
        | Route::AttributionStatus
        | Route::Quality) => attrib::handle(req, &env, r).await,
        r @ (Route::CreateWebhookEndpoint
        | Route::ListWebhookEndpoints
        | Route::DeleteWebhookEndpoint(_)
        | Route::ListDeliveries
        | Route::ReplayDelivery(_)) => webhooks::handle(req, &env, r).await,
        api => admin::handle(req, &env, api).await,
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
#[cfg(not(feature = "redirect-only"))]
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    if event.cron() == DELIVERY_CRON {
        webhooks::scheduled(&env).await;
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
    if let Err(e) = clicks::drain_spills(&env, &db).await {
        console_error!("scheduled: draining spilled clicks failed: {e}");
    }
    if let Err(e) = attrib::run(&db, &config, now(), &format!("cron {}", event.cron())).await {
        console_error!("scheduled attribution failed: {e}");
    }
    // After the run, so pruned clicks are rolled up and attributed first.
    privacy::housekeeping(&db, &config, now()).await;
    // The daily re-check of every active link, a few links per run.
    check::scheduled(&env).await;
    // Conversions this run attributed, refunds and broken links, out.
    webhooks::scheduled(&env).await;
}

/// The click queue's consumer (when a `CLICKS` queue is configured).
#[cfg(not(feature = "redirect-only"))]
#[event(queue)]
async fn queue(batch: MessageBatch<ClickRow>, env: Env, _ctx: Context) -> Result<()> {
    clicks::consume(batch, &env).await
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
