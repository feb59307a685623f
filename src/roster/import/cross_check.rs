//! The checks across rows, of what no single row shows: rows of one
//! influencer that disagree, a slug twice, a link without slug twice, a
//! code given to two influencers.

use super::cells::ImportRow;
use super::columns::{CODE, COLUMNS, DESTINATION, NAME, SLUG};
use super::lookup::{code_key, link_key, Lookup};
use super::row_error::Errors;
use crate::links::slug::Slug;
use crate::roster::influencers::ProfilePatch;

/// Which profile columns two rows of one influencer agree on.
fn same_profile(a: &ProfilePatch, b: &ProfilePatch) -> [bool; 10] {
    [
        a.name == b.name,
        a.platform == b.platform,
        a.follower_count == b.follower_count,
        a.niche == b.niche,
        a.contact_email == b.contact_email,
        a.base_fee == b.base_fee,
        a.bonus_per_conversion == b.bonus_per_conversion,
        a.revenue_share_bp == b.revenue_share_bp,
        a.start == b.start,
        a.end == b.end,
    ]
}
/// What no single row shows: rows of one influencer that disagree, a slug
/// twice, a link without slug twice, a code given to two influencers.
pub(super) fn cross_check(rows: &[ImportRow], errors: &mut Errors) {
    let handles = Lookup::new(rows.iter().map(|r| r.handle.as_str()));
    let slugs = Lookup::new(
        rows.iter()
            .map(|r| r.slug.as_ref().map_or("", Slug::as_str)),
    );
    let keys: Vec<String> = rows
        .iter()
        .map(|r| match r.slug {
            None => link_key(&r.handle, &r.campaign, &r.destination),
            Some(_) => String::new(),
        })
        .collect();
    let links = Lookup::new(keys.iter().map(String::as_str));
    let codes = Lookup::new(rows.iter().map(code_key));
    for (i, r) in rows.iter().enumerate() {
        let earlier = |l: &Lookup, key: &str| l.first(key).filter(|j| *j != i && !key.is_empty());
        let mut add = |col: usize, code, msg: String| errors.add(r.line, COLUMNS[col], code, msg);
        if let Some(f) = earlier(&handles, r.handle.as_str()).map(|j| &rows[j]) {
            let same = same_profile(&f.profile, &r.profile);
            for (k, _) in same.iter().enumerate().filter(|(_, s)| !**s) {
                let msg = format!(
                    "{} of {} differs from line {}",
                    COLUMNS[NAME + k],
                    r.handle,
                    f.line
                );
                add(NAME + k, "conflict", msg);
            }
        }
        let line = |j: usize| rows[j].line;
        if let Some(j) = earlier(&slugs, r.slug.as_ref().map_or("", Slug::as_str)) {
            add(
                SLUG,
                "duplicate_slug",
                format!("the slug is also at line {}", line(j)),
            );
        }
        if let Some(j) = earlier(&links, &keys[i]).map(line) {
            let msg =
                format!("the same handle, campaign and destination without a slug are at line {j}");
            add(DESTINATION, "duplicate_link", msg);
        }
        if let Some(j) = earlier(&codes, code_key(r)).filter(|j| rows[*j].handle != r.handle) {
            let msg = format!(
                "code {} is given to {} at line {}",
                code_key(r),
                rows[j].handle,
                rows[j].line
            );
            add(CODE, "conflict", msg);
        }
    }
}
