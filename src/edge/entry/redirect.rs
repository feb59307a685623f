//! The redirect worker's entry point (the `redirect-only` build): links,
//! codes and `/healthz` served here, every other request passed to the full
//! worker through the `APP` service binding, untouched.

use crate::base::route::{route, Method, Route};
use crate::edge::{links, APP};
use worker::{event, Context, Env, Request, Response, Result};

/// The redirect worker: links, codes and the health check here; every
/// other request goes to the full worker, untouched.
#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let method = Method::parse(req.method().as_ref());
    let path = req.path();
    match route(method, &path) {
        Route::Redirect(slug) => links::redirect::link(&req, &env, &ctx, slug, method).await,
        Route::CodeRedirect(code) => links::redirect::code(&req, &env, &ctx, code, method).await,
        Route::NotFound => links::redirect::not_found_page(),
        Route::Health => Response::from_json(&serde_json::json!({"status": "ok"})),
        _ => env.service(APP)?.fetch_request(req).await,
    }
}
