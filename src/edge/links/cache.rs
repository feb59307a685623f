//! The KV hot-path cache: `link:{slug}` holds a [`CachedLink`].
//!
//! D1 is the source of truth. The admin API writes the cache whenever a link
//! is created or changed; the redirect refills it from D1 on a miss. Unknown
//! slugs are cached briefly as [`MISSING`] so probes for random slugs do not
//! all reach D1; creating that slug overwrites the marker.
//!
//! In front of KV, each isolate keeps what it read in memory for
//! [`MEMO_TTL`] (a [`Memo`]), so a busy link costs no KV read at all. That
//! adds no staleness beyond KV's own: KV changes reach other locations
//! within about 60 s, and the memo holds an entry for 30 s. Admin writes
//! update the memo of the isolate that made them at once.

#[cfg(full)]
use crate::base::error::ApiError;
use crate::base::memo::Memo;
use crate::base::time::{Millis, SECOND};
use crate::links::link::CachedLink;
#[cfg(full)]
use crate::links::link::LinkRecord;
use crate::links::slug::Slug;
#[cfg(full)]
use crate::{config::Config, edge::http::unavailable, edge::LINKS_KV};
use std::cell::RefCell;
use worker::console_error;
use worker::kv::KvStore;
#[cfg(full)]
use worker::Env;

/// How long an isolate trusts what it read from KV.
pub const MEMO_TTL: Millis = 30 * SECOND;

/// Most slugs one isolate remembers.
const MEMO_CAPACITY: usize = 10_000;

thread_local! {
    /// Slug → the link, or `None` for a slug known not to exist.
    static MEMO: RefCell<Memo<String, Option<CachedLink>>> =
        RefCell::new(Memo::new(MEMO_TTL, MEMO_CAPACITY));
}

fn remember(slug: &Slug, link: Option<&CachedLink>, now: Millis) {
    MEMO.with(|m| {
        m.borrow_mut()
            .put(slug.as_str().to_owned(), link.cloned(), now)
    });
}

/// The value that marks a slug known not to exist.
const MISSING: &str = "-";

/// How long a missing-slug marker lives (KV's minimum TTL).
const MISSING_TTL_SECONDS: u64 = 60;

pub fn key(slug: &Slug) -> String {
    format!("link:{slug}")
}

/// What the cache knows about a slug.
pub enum Lookup {
    Hit(Box<CachedLink>),
    KnownMissing,
    Miss,
}

/// What this isolate remembers about a slug: `Some(Some(link))`,
/// `Some(None)` for a slug known not to exist, `None` if nothing (fresh).
pub fn remembered(slug: &Slug, now: Millis) -> Option<Option<CachedLink>> {
    MEMO.with(|m| m.borrow_mut().get(slug.as_str(), now))
}

/// KV, remembering what it said (after [`remembered`] came up empty).
pub async fn get(kv: &KvStore, slug: &Slug, now: Millis) -> Lookup {
    match kv.get(&key(slug)).text().await {
        Ok(Some(v)) if v == MISSING => {
            remember(slug, None, now);
            Lookup::KnownMissing
        }
        Ok(Some(v)) => match serde_json::from_str::<CachedLink>(&v) {
            Ok(link) => {
                remember(slug, Some(&link), now);
                Lookup::Hit(Box::new(link))
            }
            Err(e) => {
                console_error!("corrupt cache entry for {slug}: {e}");
                Lookup::Miss
            }
        },
        Ok(None) => Lookup::Miss,
        Err(e) => {
            console_error!("KV read failed for {slug}: {e}");
            Lookup::Miss
        }
    }
}

pub async fn put(kv: &KvStore, slug: &Slug, link: &CachedLink, now: Millis) -> Result<(), String> {
    remember(slug, Some(link), now);
    let value = serde_json::to_string(link).map_err(|e| e.to_string())?;
    kv.put(&key(slug), value)
        .map_err(|e| e.to_string())?
        .execute()
        .await
        .map_err(|e| e.to_string())
}

pub async fn put_missing(kv: &KvStore, slug: &Slug, now: Millis) -> Result<(), String> {
    remember(slug, None, now);
    kv.put(&key(slug), MISSING)
        .map_err(|e| e.to_string())?
        .expiration_ttl(MISSING_TTL_SECONDS)
        .execute()
        .await
        .map_err(|e| e.to_string())
}

/// Writes the link's redirect record to KV, before answering, so the new
/// state is what the next redirect sees.
#[cfg(full)]
pub async fn publish(env: &Env, config: &Config, record: &LinkRecord) -> Result<(), ApiError> {
    let kv = env.kv(LINKS_KV).map_err(unavailable("KV binding"))?;
    crate::edge::links::cache::put(
        &kv,
        &record.slug,
        &record.cached(&config.store),
        crate::edge::now(),
    )
    .await
    .map_err(unavailable("writing the link cache"))
}
