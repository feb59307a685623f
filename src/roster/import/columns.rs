//! The column table: the columns the import reads ([`COLUMNS`]) and the
//! export's computed ones it skips ([`EXTRA`]), and the header matched
//! against them (by name, case-insensitively).

use super::row_error::Errors;
use crate::base::csv;

/// The columns the import reads, in [`ImportRow`](super::ImportRow) order.
pub const COLUMNS: [&str; 20] = [
    "handle",
    "name",
    "primary_platform",
    "follower_count",
    "niche",
    "contact_email",
    "base_fee",
    "bonus_per_conversion",
    "revenue_share_pct",
    "contract_start",
    "contract_end",
    "campaign",
    "slug",
    "destination",
    "format",
    "posted_at",
    "product_category",
    "code",
    "discount_style",
    "tags",
];

/// The columns the export writes after [`COLUMNS`], in order: derived or
/// computed, not stored, so the import skips them.
pub const EXTRA: [&str; 12] = [
    "tier",
    "short_url",
    "tracking_url",
    "status",
    "last_check_at",
    "last_check",
    "clicks",
    "unique_clicks",
    "conversions",
    "revenue",
    "cost",
    "roi",
];

pub(super) const HANDLE: usize = 0;
/// The profile columns are `NAME..=END`, in
/// [`ProfilePatch`](crate::roster::influencers::ProfilePatch) order.
pub(super) const NAME: usize = 1;
pub(super) const END: usize = 10;
pub(super) const CAMPAIGN: usize = 11;
pub(super) const SLUG: usize = 12;
pub(super) const DESTINATION: usize = 13;
pub(super) const CODE: usize = 17;

/// Which field of a record holds each of [`COLUMNS`].
pub(super) fn columns(header: &[String], line: usize, errors: &mut Errors) -> [Option<usize>; 20] {
    let mut cols = [None; 20];
    for (i, raw) in header.iter().enumerate() {
        let raw = csv::unguard(raw.trim()).trim();
        let name = raw.to_ascii_lowercase();
        match COLUMNS.iter().position(|c| *c == name) {
            Some(c) if cols[c].is_some() => {
                let msg = format!("column '{name}' is given more than once");
                errors.add(line, &name, "duplicate_column", msg);
            }
            Some(c) => cols[c] = Some(i),
            None if EXTRA.contains(&name.as_str()) => {}
            None => {
                let msg = format!(
                    "unknown column '{raw}'; the columns are {}",
                    COLUMNS.join(", ")
                );
                errors.add(line, raw, "unknown_column", msg);
            }
        }
    }
    for c in [HANDLE, CAMPAIGN, DESTINATION] {
        if cols[c].is_none() {
            let msg = format!("the column '{}' is required", COLUMNS[c]);
            errors.add(line, COLUMNS[c], "missing_column", msg);
        }
    }
    cols
}
