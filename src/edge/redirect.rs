//! The redirect hot path: `GET`/`HEAD /{slug}`.
//!
//! KV first, D1 on a miss (refilling KV in the background). The response is
//! built before any write; the click insert runs in `ctx.wait_until`, so the
//! visitor never waits for D1 and a failed write never fails the redirect.

use super::{cache, now, random, store, DB, LINKS_KV};
use crate::click::{self, Click, RequestFacts};
use crate::ids::{ClickId, VisitorId, ID_BYTES};
use crate::link::CachedLink;
use crate::route::Method;
use crate::slug::Slug;
use crate::utm;
use worker::{console_error, Context, Env, Request, Response, Result};

const NOT_FOUND_HTML: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"robots\" content=\"noindex\">\
<title>Link not found</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:15vh auto;padding:0 1rem;color:#222}</style>\
</head><body><h1>Link not found</h1><p>This link does not exist, has been disabled, or has expired.</p></body></html>";

pub fn not_found_page() -> Result<Response> {
    let resp = Response::from_html(NOT_FOUND_HTML)?.with_status(404);
    resp.headers().set("Cache-Control", "no-store")?;
    Ok(resp)
}

pub async fn handle(
    req: &Request,
    env: &Env,
    ctx: &Context,
    raw_slug: &str,
    method: Method,
) -> Result<Response> {
    let Ok(slug) = Slug::parse(raw_slug) else {
        return not_found_page();
    };
    let now = now();
    let Some(link) = resolve(env, ctx, &slug).await? else {
        return not_found_page();
    };
    let Some(target) = link.target(now) else {
        return not_found_page();
    };

    let headers = req.headers();
    let cookie = headers.get("Cookie")?;
    let known_visitor = cookie.as_deref().and_then(click::visitor_from_cookie);
    let visitor = known_visitor
        .clone()
        .unwrap_or_else(|| VisitorId::from_random(random::bytes::<ID_BYTES>()));
    let click_id = ClickId::from_random(random::bytes::<ID_BYTES>());
    let location = utm::with_click_id(target, click_id.as_str());

    let resp = Response::empty()?.with_status(302);
    let h = resp.headers();
    h.set("Location", &location)?;
    h.set("Cache-Control", "private, no-store")?;
    h.set("Referrer-Policy", "strict-origin-when-cross-origin")?;
    if known_visitor.is_none() {
        h.set("Set-Cookie", &click::visitor_set_cookie(&visitor))?;
    }

    if method == Method::Get {
        let user_agent = headers.get("User-Agent")?;
        let referer = headers.get("Referer")?;
        let country = req.cf().and_then(|cf| cf.country());
        let facts = RequestFacts {
            user_agent: user_agent.as_deref(),
            referer: referer.as_deref(),
            country: country.as_deref(),
            cookie: cookie.as_deref(),
        };
        let click = Click::new(click_id, link.id, now, visitor, &facts);
        let db = env.d1(DB)?;
        ctx.wait_until(async move {
            if let Err(e) = store::insert_click(&db, &click).await {
                console_error!(
                    "click {} on link {} was not recorded: {e}",
                    click.id,
                    click.link_id
                );
            }
        });
    }
    Ok(resp)
}

/// The cached link for a slug: KV, then D1 (refilling KV without waiting).
async fn resolve(env: &Env, ctx: &Context, slug: &Slug) -> Result<Option<CachedLink>> {
    let kv = env.kv(LINKS_KV)?;
    match cache::get(&kv, slug).await {
        cache::Lookup::Hit(link) => return Ok(Some(link)),
        cache::Lookup::KnownMissing => return Ok(None),
        cache::Lookup::Miss => {}
    }
    let db = env.d1(DB)?;
    let record = match store::load_link(&db, slug).await {
        Ok(r) => r,
        Err(_) => return Err(worker::Error::RustError("link lookup failed".into())),
    };
    let cached = record.as_ref().map(|r| r.cached());
    let slug = slug.clone();
    let refill = cached.clone();
    ctx.wait_until(async move {
        let result = match &refill {
            Some(link) => cache::put(&kv, &slug, link).await,
            None => cache::put_missing(&kv, &slug).await,
        };
        if let Err(e) = result {
            console_error!("KV refill for {slug} failed: {e}");
        }
    });
    Ok(cached)
}
