//! One record's cells read into an [`ImportRow`]: each cell unguarded,
//! trimmed and parsed by its column's rules, every problem recorded by line
//! and column.

use super::columns::{CAMPAIGN, CODE, COLUMNS, DESTINATION, END, HANDLE, NAME, SLUG};
use super::row_error::Errors;
use crate::base::body::parse_name;
use crate::base::body::Patch;
use crate::base::csv;
use crate::base::error::ParseError;
use crate::base::money::{Currency, Money};
use crate::base::time::{self, Millis};
use crate::links::code::PromoCode;
use crate::links::destination::Destination;
use crate::links::discount::DiscountStyle;
use crate::links::link::Format;
use crate::links::slug::Slug;
use crate::links::utm_names::{CampaignSlug, Handle, Platform, Tag, UtmValue, MAX_TAGS};
use crate::roster::influencers::{parse_email, parse_percent, ProfilePatch, MAX_FOLLOWERS};

/// One validated row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub line: usize,
    pub handle: Handle,
    /// `Keep` where the column is absent, `Clear` where the cell is empty.
    pub profile: ProfilePatch,
    pub campaign: CampaignSlug,
    /// `None`: matched by (handle, campaign, destination), else generated.
    pub slug: Option<Slug>,
    pub destination: Destination,
    pub format: Patch<Format>,
    pub posted_at: Patch<Millis>,
    pub product_category: Patch<UtmValue>,
    pub code: Patch<PromoCode>,
    pub discount_style: Patch<DiscountStyle>,
    /// De-duplicated and sorted.
    pub tags: Patch<Vec<Tag>>,
}

/// One record's cells, read column by column; errors are recorded.
pub(super) struct Cells<'a> {
    pub(super) cols: &'a [Option<usize>; 20],
    pub(super) record: &'a [String],
    pub(super) line: usize,
    pub(super) errors: &'a mut Errors,
}

impl Cells<'_> {
    fn patch<T>(
        &mut self,
        col: usize,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Patch<T> {
        let Some(i) = self.cols[col] else {
            return Patch::Keep;
        };
        let cell = csv::unguard(self.record[i].trim()).trim();
        if cell.is_empty() {
            return Patch::Clear;
        }
        match parse(cell) {
            Ok(v) => Patch::Set(v),
            Err(e) => {
                self.errors.add(self.line, COLUMNS[col], e.code, e.message);
                Patch::Keep
            }
        }
    }

    fn req<T>(
        &mut self,
        col: usize,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Option<T> {
        match self.patch(col, parse) {
            Patch::Set(v) => Some(v),
            Patch::Clear => {
                let msg = format!("{} is required", COLUMNS[col]);
                self.errors.add(self.line, COLUMNS[col], "required", msg);
                None
            }
            Patch::Keep => None,
        }
    }

    pub(super) fn row(&mut self, currency: Currency) -> Option<ImportRow> {
        let money = |s: &str| Money::parse(s, currency);
        let handle = self.req(HANDLE, Handle::parse);
        let profile = ProfilePatch {
            name: self.patch(NAME, parse_name),
            platform: self.patch(NAME + 1, Platform::parse),
            follower_count: self.patch(NAME + 2, parse_followers),
            niche: self.patch(NAME + 3, UtmValue::parse),
            contact_email: self.patch(NAME + 4, parse_email),
            base_fee: self.patch(NAME + 5, money),
            bonus_per_conversion: self.patch(NAME + 6, money),
            revenue_share_bp: self.patch(NAME + 7, parse_percent),
            start: self.patch(NAME + 8, time::parse_date),
            end: self.patch(END, time::parse_date),
        };
        if let (Patch::Set(s), Patch::Set(e)) = (&profile.start, &profile.end) {
            if e < s {
                let msg = "contract_end is before contract_start".to_owned();
                self.errors
                    .add(self.line, COLUMNS[END], "invalid_range", msg);
            }
        }
        let campaign = self.req(CAMPAIGN, CampaignSlug::parse);
        let slug = match self.patch(SLUG, Slug::parse) {
            Patch::Set(s) => Some(s),
            _ => None,
        };
        let destination = self.req(DESTINATION, Destination::parse);
        let format = self.patch(DESTINATION + 1, Format::parse);
        let posted_at = self.patch(DESTINATION + 2, parse_posted_at);
        let product_category = self.patch(DESTINATION + 3, UtmValue::parse);
        let code = self.patch(CODE, PromoCode::parse);
        let discount_style = self.patch(CODE + 1, DiscountStyle::parse);
        let tags = self.patch(CODE + 2, parse_tags);
        Some(ImportRow {
            line: self.line,
            handle: handle?,
            profile,
            campaign: campaign?,
            slug,
            destination: destination?,
            format,
            posted_at,
            product_category,
            code,
            discount_style,
            tags,
        })
    }
}

fn parse_followers(s: &str) -> Result<u64, ParseError> {
    s.parse()
        .ok()
        .filter(|n| *n <= MAX_FOLLOWERS && s.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            ParseError::new(
                "invalid_value",
                format!("follower_count must be a whole number from 0 to {MAX_FOLLOWERS}"),
            )
        })
}

/// An RFC 3339 timestamp, or a date (its midnight UTC).
fn parse_posted_at(s: &str) -> Result<Millis, ParseError> {
    time::parse_rfc3339(s).or_else(|e| time::parse_date(s).map(|d| d * time::DAY).map_err(|_| e))
}

/// `;`-separated tags, de-duplicated and sorted.
fn parse_tags(s: &str) -> Result<Vec<Tag>, ParseError> {
    let mut tags = Vec::new();
    for t in s.split(';').filter(|t| !t.trim().is_empty()) {
        let t = Tag::parse(t)?;
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(ParseError::new(
            "too_many",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    tags.sort();
    Ok(tags)
}
