//! The KV hot-path cache: `link:{slug}` holds a [`CachedLink`].
//!
//! D1 is the source of truth. The admin API writes the cache whenever a link
//! is created or changed; the redirect refills it from D1 on a miss. Unknown
//! slugs are cached briefly as [`MISSING`] so probes for random slugs do not
//! all reach D1; creating that slug overwrites the marker.

use crate::link::CachedLink;
use crate::slug::Slug;
use worker::{console_error, kv::KvStore};

/// The value that marks a slug known not to exist.
const MISSING: &str = "-";
/// How long a missing-slug marker lives (KV's minimum TTL).
const MISSING_TTL_SECONDS: u64 = 60;

pub fn key(slug: &Slug) -> String {
    format!("link:{slug}")
}

/// What the cache knows about a slug.
pub enum Lookup {
    Hit(CachedLink),
    KnownMissing,
    Miss,
}

pub async fn get(kv: &KvStore, slug: &Slug) -> Lookup {
    match kv.get(&key(slug)).text().await {
        Ok(Some(v)) if v == MISSING => Lookup::KnownMissing,
        Ok(Some(v)) => match serde_json::from_str(&v) {
            Ok(link) => Lookup::Hit(link),
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

pub async fn put(kv: &KvStore, slug: &Slug, link: &CachedLink) -> Result<(), String> {
    let value = serde_json::to_string(link).map_err(|e| e.to_string())?;
    kv.put(&key(slug), value)
        .map_err(|e| e.to_string())?
        .execute()
        .await
        .map_err(|e| e.to_string())
}

pub async fn put_missing(kv: &KvStore, slug: &Slug) -> Result<(), String> {
    kv.put(&key(slug), MISSING)
        .map_err(|e| e.to_string())?
        .expiration_ttl(MISSING_TTL_SECONDS)
        .execute()
        .await
        .map_err(|e| e.to_string())
}
