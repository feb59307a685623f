//! The redirect hot path: `GET`/`HEAD /{slug}` and `/c/{code}`.
//!
//! KV first, D1 on a miss (refilling KV in the background). The response is
//! built before any write; the click goes to the isolate's group commit
//! ([`crate::edge::traffic::group_commit::record`]), written in `ctx.wait_until`, so the visitor never
//! waits for D1 and a failed write never fails the redirect.
//!
//! Who gets what:
//! * link-preview bots (`GET`): a tiny Open Graph page pointing at the
//!   destination; other bots and `HEAD`: the plain 302. Both are recorded as
//!   bot clicks and get no cookie.
//! * in-app visitors of `escape_in_app` links: the interstitial (200).
//! * everyone else: the 302 with UTM tags, `lc_cid` and the discount code.

use crate::base::route::Method;
use crate::base::time::Millis;
use crate::edge::d1::query;
use crate::edge::{config, now, DB, LINKS_KV};
use crate::links::code::PromoCode;
use crate::links::discount::StoreDefaults;
use crate::links::link::{Availability, CachedLink, LinkStatus};
use crate::links::slug::Slug;
use crate::links::targeting;
use crate::links::targeting::VisitorFacts;
use crate::traffic::click::{Click, RequestFacts, Trigger, Via, Visit};
use crate::traffic::group_commit::ClickRow;
use crate::traffic::ids::{ClickId, VisitorId, ID_BYTES};
use crate::traffic::ua::BotKind;
use crate::traffic::{click, ua, visitor_pages};
use worker::{console_error, Context, D1Database, Env, Request, Response, Result};

pub fn not_found_page() -> Result<Response> {
    let resp = Response::from_html(visitor_pages::NOT_FOUND)?.with_status(404);
    resp.headers().set("Cache-Control", "no-store")?;
    Ok(resp)
}

/// `GET`/`HEAD /{slug}`.
pub async fn link(
    req: &Request,
    env: &Env,
    ctx: &Context,
    raw_slug: &str,
    method: Method,
) -> Result<Response> {
    let Ok(slug) = Slug::parse(raw_slug) else {
        return not_found_page();
    };
    let store = config(env).store;
    match resolve(env, ctx, &slug, &store).await? {
        Some(link) => {
            let pre = lookups(req, env, &link).await;
            visit(req, env, ctx, &link, pre, method, Via::Link)
        }
        None => not_found_page(),
    }
}

/// `GET`/`HEAD /c/{code}`: the code's influencer's link, with that code
/// applied. Resolved in D1 on every visit (see `crate::edge::links::link_rows::link_for_code`).
pub async fn code(
    req: &Request,
    env: &Env,
    ctx: &Context,
    raw_code: &str,
    method: Method,
) -> Result<Response> {
    let Ok(code) = PromoCode::parse(raw_code) else {
        return not_found_page();
    };
    let store = config(env).store;
    let db = env.d1(DB)?;
    let record = match crate::edge::links::link_rows::link_for_code(&db, &code).await {
        Ok(r) => r,
        Err(_) => return Err(worker::Error::RustError("code lookup failed".into())),
    };
    match record {
        Some(r) => {
            let link = r.cached_with(&store, Some(&code));
            let pre = lookups(req, env, &link).await;
            visit(req, env, ctx, &link, pre, method, Via::Code)
        }
        None => not_found_page(),
    }
}

/// An expired link: its `expired_url` (a plain, untracked 302) or 410.
fn expired_response(link: &CachedLink) -> Result<Response> {
    let resp = match &link.limits.expired_url {
        Some(url) => {
            let r = Response::empty()?.with_status(302);
            r.headers().set("Location", url.as_str())?;
            r
        }
        None => Response::from_html(visitor_pages::GONE)?.with_status(410),
    };
    resp.headers().set("Cache-Control", "private, no-store")?;
    resp.headers().set("X-Robots-Tag", "noindex")?;
    Ok(resp)
}

/// The human clicks a link with `max_clicks` has stored (one D1 read, only
/// for such links). If D1 cannot say, `None`: the link stays live.
async fn stored_clicks(env: &Env, link: &CachedLink) -> Option<u64> {
    if link.limits.max_clicks.is_none() || link.status != LinkStatus::Active {
        return None;
    }
    crate::edge::traffic::stats::human_clicks(&env.d1(DB).ok()?, link.id)
        .await
        .ok()
}

/// What a visit needs from storage before it can answer: only links with
/// `max_clicks` read their count, only visits without cookie consent the
/// day's salt (both usually from memory or not at all).
struct Lookups {
    clicks: Option<u64>,
    /// The anonymous visitor, when the visit may not use the cookie.
    anonymous: Option<VisitorId>,
}

async fn lookups(req: &Request, env: &Env, link: &CachedLink) -> Lookups {
    Lookups {
        clicks: stored_clicks(env, link).await,
        anonymous: crate::edge::traffic::privacy::anonymous_visitor(req, env, link).await,
    }
}

/// Answers one visit of a resolved link and records it.
fn visit(
    req: &Request,
    env: &Env,
    ctx: &Context,
    link: &CachedLink,
    pre: Lookups,
    method: Method,
    via: Via,
) -> Result<Response> {
    let now = now();
    let url = req.url()?;
    if !link.answers_on(url.host_str().unwrap_or("")) {
        // Bound to another short domain: this one does not know the slug.
        return not_found_page();
    }
    let headers = req.headers();
    let user_agent = headers.get("User-Agent")?;
    let info = ua::classify(user_agent.as_deref().unwrap_or(""));
    let head = method == Method::Head;
    let is_bot = info.is_bot() || head;
    let availability = link.availability(now, pre.clicks);
    if let Some(reason) = availability.miss_reason() {
        // Record the miss (for the quality findings), then answer.
        let (db, link_id) = (env.d1(DB)?, link.id);
        ctx.wait_until(async move {
            if let Err(e) =
                crate::edge::links::redirect::insert_miss(&db, link_id, now, reason, is_bot).await
            {
                console_error!("miss on link {link_id} was not recorded: {e}");
            }
        });
        return match availability {
            Availability::Expired(_) => expired_response(link),
            _ => not_found_page(),
        };
    }

    // Without consent (privacy::tracking), the cookie is neither read nor
    // set: the visitor is the day's anonymous id.
    let tracked = pre.anonymous.is_none();
    let cookie = match pre.anonymous {
        Some(_) => None,
        None => headers.get("Cookie")?,
    };
    let known_visitor = pre
        .anonymous
        .or_else(|| cookie.as_deref().and_then(click::visitor_from_cookie));
    let new_visitor = known_visitor.is_none();
    let visitor = known_visitor
        .unwrap_or_else(|| VisitorId::from_random(crate::edge::random::bytes::<ID_BYTES>()));
    let click_id = ClickId::from_random(crate::edge::random::bytes::<ID_BYTES>());
    let country = req.cf().and_then(|cf| cf.country());
    let accept_language = headers.get("Accept-Language")?;
    let chosen = targeting::choose(
        &link.rules,
        &link.variants,
        &VisitorFacts {
            ua: &info,
            country: country.as_deref(),
            accept_language: accept_language.as_deref(),
        },
        link.id,
        visitor.as_str(),
    );
    let location = link.target_of(chosen).location(click_id.as_str());

    let preview_bot = !head && info.bot.is_some_and(|b| b.kind == BotKind::Preview);
    let resp = if preview_bot {
        Response::from_html(visitor_pages::preview(&link.destination))?
    } else if !is_bot && link.escape_in_app && info.app.is_some() {
        Response::from_html(visitor_pages::interstitial(
            &location,
            info.os,
            link.code.as_deref(),
        ))?
    } else {
        let r = Response::empty()?.with_status(302);
        r.headers().set("Location", &location)?;
        r
    };
    let h = resp.headers();
    h.set("Cache-Control", "private, no-store")?;
    h.set("Referrer-Policy", "strict-origin-when-cross-origin")?;
    h.set("X-Robots-Tag", "noindex")?;
    if new_visitor && !is_bot {
        h.set("Set-Cookie", &click::visitor_set_cookie(&visitor))?;
    }

    let referer = headers.get("Referer")?;
    let (rule, variant) = chosen.labels(&link.rules, &link.variants);
    let facts = RequestFacts {
        user_agent: user_agent.as_deref(),
        referer: referer.as_deref(),
        country: country.as_deref(),
        cookie: cookie.as_deref(),
    };
    let click = Click::new(
        Visit {
            id: click_id,
            link_id: link.id,
            now,
            visitor_id: visitor,
            via,
            code: link.code.clone(),
            head,
            trigger: Trigger::from_query(url.query()),
            rule: rule.map(str::to_owned),
            variant: variant.map(str::to_owned),
            // They identify the click to the ad platform: kept only when
            // the visit may use the cookie, and never for bots.
            ad_click_ids: if tracked && !is_bot {
                crate::traffic::ad_click_ids::from_query(url.query())
            } else {
                None
            },
        },
        &info,
        &facts,
    );
    crate::edge::traffic::group_commit::record(env, ctx, ClickRow::from(&click));
    Ok(resp)
}

/// The cached link for a slug: KV, then D1 (refilling KV without waiting).
/// An entry built under another store configuration counts as a miss.
async fn resolve(
    env: &Env,
    ctx: &Context,
    slug: &Slug,
    store: &StoreDefaults,
) -> Result<Option<CachedLink>> {
    match crate::edge::links::cache::remembered(slug, now()) {
        Some(Some(link)) if link.is_current(store) => return Ok(Some(link)),
        Some(None) => return Ok(None),
        _ => {}
    }
    let kv = env.kv(LINKS_KV)?;
    match crate::edge::links::cache::get(&kv, slug, now()).await {
        crate::edge::links::cache::Lookup::Hit(link) if link.is_current(store) => {
            return Ok(Some(*link))
        }
        crate::edge::links::cache::Lookup::KnownMissing => return Ok(None),
        crate::edge::links::cache::Lookup::Hit(_) | crate::edge::links::cache::Lookup::Miss => {}
    }
    let db = env.d1(DB)?;
    let record = match crate::edge::links::link_rows::load_link(&db, slug).await {
        Ok(r) => r,
        Err(_) => return Err(worker::Error::RustError("link lookup failed".into())),
    };
    let cached = record.as_ref().map(|r| r.cached(store));
    let slug = slug.clone();
    let refill = cached.clone();
    ctx.wait_until(async move {
        let result = match &refill {
            Some(link) => crate::edge::links::cache::put(&kv, &slug, link, now()).await,
            None => crate::edge::links::cache::put_missing(&kv, &slug, now()).await,
        };
        if let Err(e) = result {
            console_error!("KV refill for {slug} failed: {e}");
        }
    });
    Ok(cached)
}

pub async fn insert_miss(
    db: &D1Database,
    link_id: i64,
    ts: Millis,
    reason: &str,
    is_bot: bool,
) -> worker::Result<()> {
    query!(
        db,
        "INSERT INTO link_misses (link_id, ts, reason, is_bot) VALUES (?1, ?2, ?3, ?4)",
        link_id,
        ts,
        reason,
        i64::from(is_bot)
    )?
    .run()
    .await?;
    Ok(())
}
