//! The spreadsheet import's pure part (`POST /api/v1/import`): a CSV of
//! links, one a row, each with its influencer's profile.
//!
//! [`parse_rows`] reads and validates the file and reports every error it
//! finds (up to [`MAX_ERRORS`]) by line and column. [`plan`] matches the rows
//! against a [`Snapshot`] of what is stored and says for every influencer,
//! campaign, code and link whether it is created, updated or unchanged; the
//! shell writes the plan in one D1 transaction, or answers
//! [`Plan::summary`] for a dry run.
//!
//! * Columns ([`COLUMNS`]) are matched by name, case-insensitively;
//!   `handle`, `campaign` and `destination` are required. The export's
//!   computed columns ([`EXTRA`]) are skipped, any other is refused.
//! * An absent column keeps what is stored; an empty cell clears it. Every
//!   cell is [`csv::unguard`]ed and trimmed first. Blank lines are skipped.
//! * Rows of one influencer must agree on every profile column.
//! * A link is matched by its `slug`, else by (handle, campaign,
//!   destination) among the stored links no slug of the file claims.
//!   Importing a file twice plans no creates and no updates.

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
use crate::roster::influencers::{
    parse_email, parse_percent, Profile, ProfilePatch, MAX_FOLLOWERS,
};
use serde::Serialize;
use serde_json::{json, Value};

/// The most data rows one file may have.
pub const MAX_ROWS: usize = 5_000;
/// The most errors reported for one file.
pub const MAX_ERRORS: usize = 100;

/// The columns the import reads, in [`ImportRow`] order.
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

const HANDLE: usize = 0;
/// The profile columns are `NAME..=END`, in [`ProfilePatch`] order.
const NAME: usize = 1;
const END: usize = 10;
const CAMPAIGN: usize = 11;
const SLUG: usize = 12;
const DESTINATION: usize = 13;
const CODE: usize = 17;

/// One problem with the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The 1-based line the record starts on; the header is line 1.
    pub line: usize,
    /// The column's name; empty when the error is about the whole record.
    pub column: String,
    pub code: &'static str,
    pub message: String,
}

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

/// What is stored, as far as the import can change it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub influencers: Vec<(Handle, Profile)>,
    pub campaigns: Vec<CampaignSlug>,
    /// Every code with its owner.
    pub codes: Vec<(PromoCode, Handle)>,
    pub links: Vec<ExistingLink>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingLink {
    pub slug: Slug,
    pub influencer: Handle,
    pub campaign: CampaignSlug,
    pub destination: Destination,
    pub format: Option<Format>,
    pub posted_at: Option<Millis>,
    /// The explicit category only.
    pub product_category: Option<UtmValue>,
    pub discount_code: Option<PromoCode>,
    pub discount_style: Option<DiscountStyle>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Unchanged,
}

/// A link as it will be after the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedLink {
    pub line: usize,
    pub action: Action,
    /// `None` (only when created): the shell generates one.
    pub slug: Option<Slug>,
    pub influencer: Handle,
    pub campaign: CampaignSlug,
    pub destination: Destination,
    pub format: Option<Format>,
    pub posted_at: Option<Millis>,
    pub product_category: Option<UtmValue>,
    pub discount_code: Option<PromoCode>,
    pub discount_style: Option<DiscountStyle>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub creates: usize,
    pub updates: usize,
    pub unchanged: usize,
}

impl Counts {
    fn of(actions: impl Iterator<Item = Action>) -> Counts {
        let mut c = Counts::default();
        for a in actions {
            *match a {
                Action::Create => &mut c.creates,
                Action::Update => &mut c.updates,
                Action::Unchanged => &mut c.unchanged,
            } += 1;
        }
        c
    }
}

/// Everything the import does, in file order (each influencer, campaign
/// and code at its first row).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The whole profile after the import.
    pub influencers: Vec<(Handle, Profile, Action)>,
    pub campaigns: Vec<(CampaignSlug, Action)>,
    /// A code with its owner.
    pub codes: Vec<(PromoCode, Handle, Action)>,
    pub links: Vec<PlannedLink>,
    /// Over all four.
    pub counts: Counts,
}

impl Plan {
    fn parts(&self) -> [Counts; 4] {
        [
            Counts::of(self.influencers.iter().map(|x| x.2)),
            Counts::of(self.campaigns.iter().map(|x| x.1)),
            Counts::of(self.codes.iter().map(|x| x.2)),
            Counts::of(self.links.iter().map(|l| l.action)),
        ]
    }

    /// `{"creates","updates","unchanged","influencers":{..},"campaigns":{..},
    /// "codes":{..},"links":{..}}`, for the API and the dry run.
    pub fn summary(&self) -> Value {
        let [i, c, k, l] = self.parts();
        let t = self.counts;
        json!({"creates": t.creates, "updates": t.updates, "unchanged": t.unchanged,
            "influencers": i, "campaigns": c, "codes": k, "links": l})
    }
}

/// Errors up to [`MAX_ERRORS`].
#[derive(Default)]
struct Errors(Vec<RowError>);

impl Errors {
    fn add(&mut self, line: usize, column: &str, code: &'static str, message: String) {
        if self.0.len() < MAX_ERRORS {
            self.0.push(RowError {
                line,
                column: column.to_owned(),
                code,
                message,
            });
        }
    }

    fn finish<T>(self, ok: T) -> Result<T, Vec<RowError>> {
        let mut e = self.0;
        if e.is_empty() {
            return Ok(ok);
        }
        crate::base::sorting::sort_by(&mut e, |a, b| a.line.cmp(&b.line));
        Err(e)
    }
}

/// Positions by key: a sorted list searched by bisection, ties in position
/// order (no B-tree: wasm size).
struct Lookup<'a>(Vec<(&'a str, usize)>);

impl<'a> Lookup<'a> {
    fn new(keys: impl Iterator<Item = &'a str>) -> Lookup<'a> {
        let mut v: Vec<_> = keys.zip(0..).collect();
        crate::base::sorting::sort_by(&mut v, |a, b| a.0.cmp(b.0));
        Lookup(v)
    }

    fn all<'s>(&'s self, key: &'s str) -> impl Iterator<Item = usize> + 's {
        let from = self.0.partition_point(|(k, _)| *k < key);
        self.0[from..]
            .iter()
            .take_while(move |(k, _)| *k == key)
            .map(|(_, i)| *i)
    }

    fn first(&self, key: &str) -> Option<usize> {
        self.all(key).next()
    }
}

fn link_key(h: &Handle, c: &CampaignSlug, d: &Destination) -> String {
    // Neither handles, campaign slugs nor URLs contain a space.
    format!("{h} {c} {}", d.as_str())
}

fn code_key(r: &ImportRow) -> &str {
    match &r.code {
        Patch::Set(c) => c.as_str(),
        _ => "",
    }
}

/// Reads and validates a file: a header row, then at most [`MAX_ROWS`]
/// rows. Amounts are in `currency`.
pub fn parse_rows(csv_text: &str, currency: Currency) -> Result<Vec<ImportRow>, Vec<RowError>> {
    let mut errors = Errors::default();
    let records = match csv::records(csv_text) {
        Ok(r) => r,
        Err(e) => {
            errors.add(e.line, "", "invalid_csv", e.message);
            return errors.finish(Vec::new());
        }
    };
    let mut records = records
        .into_iter()
        .filter(|(_, r)| r.iter().any(|f| !f.trim().is_empty()));
    let (header_line, header) = records.next().unwrap_or((1, Vec::new()));
    let cols = columns(&header, header_line, &mut errors);
    let data: Vec<_> = records.collect();
    if let Some((line, _)) = data.get(MAX_ROWS) {
        errors.add(
            *line,
            "",
            "too_many_rows",
            format!("at most {MAX_ROWS} rows per file"),
        );
    }
    if !errors.0.is_empty() {
        return errors.finish(Vec::new());
    }
    let mut rows = Vec::with_capacity(data.len());
    for (line, record) in &data {
        if errors.0.len() >= MAX_ERRORS {
            break;
        }
        if record.len() != header.len() {
            let msg = format!("{} fields; the header has {}", record.len(), header.len());
            errors.add(*line, "", "field_count", msg);
            continue;
        }
        let before = errors.0.len();
        let mut cells = Cells {
            cols: &cols,
            record,
            line: *line,
            errors: &mut errors,
        };
        let row = cells.row(currency);
        if errors.0.len() == before {
            rows.extend(row);
        }
    }
    cross_check(&rows, &mut errors);
    errors.finish(rows)
}

/// Which field of a record holds each of [`COLUMNS`].
fn columns(header: &[String], line: usize, errors: &mut Errors) -> [Option<usize>; 20] {
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

/// One record's cells, read column by column; errors are recorded.
struct Cells<'a> {
    cols: &'a [Option<usize>; 20],
    record: &'a [String],
    line: usize,
    errors: &'a mut Errors,
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

    fn row(&mut self, currency: Currency) -> Option<ImportRow> {
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
    crate::base::sorting::sort(&mut tags);
    Ok(tags)
}

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
fn cross_check(rows: &[ImportRow], errors: &mut Errors) {
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

fn action<T: PartialEq>(old: Option<&T>, new: &T) -> Action {
    match old {
        None => Action::Create,
        Some(o) if o == new => Action::Unchanged,
        Some(_) => Action::Update,
    }
}

/// Matches validated rows (from [`parse_rows`]) against what is stored.
/// Errors: a code of another influencer, a slug of another influencer or
/// campaign, several stored links a row without slug could be, a contract
/// that would end before it starts.
pub fn plan(rows: &[ImportRow], snapshot: &Snapshot) -> Result<Plan, Vec<RowError>> {
    let mut errors = Errors::default();
    let mut plan = Plan::default();
    let first_of = |key: fn(&ImportRow) -> &str| {
        let l = Lookup::new(rows.iter().map(key));
        let first: Vec<_> = (0..rows.len())
            .map(|i| l.first(key(&rows[i])) == Some(i))
            .collect();
        first
    };

    let stored = Lookup::new(snapshot.influencers.iter().map(|(h, _)| h.as_str()));
    for (r, first) in rows.iter().zip(first_of(|r| r.handle.as_str())) {
        if !first {
            continue;
        }
        let old = stored
            .first(r.handle.as_str())
            .map(|j| &snapshot.influencers[j].1);
        match r.profile.clone().apply(old.cloned().unwrap_or_default()) {
            Ok(p) => {
                let a = action(old, &p);
                plan.influencers.push((r.handle.clone(), p, a));
            }
            Err(e) => errors.add(r.line, e.field().unwrap_or(""), e.code(), e.to_string()),
        }
    }

    let stored = Lookup::new(snapshot.campaigns.iter().map(CampaignSlug::as_str));
    for (r, first) in rows.iter().zip(first_of(|r| r.campaign.as_str())) {
        if first {
            let old = stored
                .first(r.campaign.as_str())
                .map(|j| &snapshot.campaigns[j]);
            plan.campaigns
                .push((r.campaign.clone(), action(old, &r.campaign)));
        }
    }

    let stored = Lookup::new(snapshot.codes.iter().map(|(c, _)| c.as_str()));
    for (r, first) in rows.iter().zip(first_of(code_key)) {
        let Patch::Set(code) = &r.code else { continue };
        match stored.first(code.as_str()).map(|j| &snapshot.codes[j].1) {
            Some(owner) if *owner != r.handle => {
                let msg = format!("code {code} belongs to {owner}");
                errors.add(r.line, COLUMNS[CODE], "code_of_other_influencer", msg);
            }
            old if first => {
                let a = action(old, &r.handle);
                plan.codes.push((code.clone(), r.handle.clone(), a));
            }
            _ => {}
        }
    }

    let links = &snapshot.links;
    let by_slug = Lookup::new(links.iter().map(|l| l.slug.as_str()));
    let keys: Vec<String> = links
        .iter()
        .map(|l| link_key(&l.influencer, &l.campaign, &l.destination))
        .collect();
    let by_key = Lookup::new(keys.iter().map(String::as_str));
    let mut claimed = vec![false; links.len()];
    let mut matched: Vec<Option<usize>> = vec![None; rows.len()];
    for (r, m) in rows.iter().zip(matched.iter_mut()) {
        let Some(slug) = &r.slug else { continue };
        let Some(j) = by_slug.first(slug.as_str()) else {
            continue;
        };
        let e = &links[j];
        if e.influencer != r.handle || e.campaign != r.campaign {
            let msg = format!(
                "link {slug} belongs to {} in campaign {}",
                e.influencer, e.campaign
            );
            errors.add(r.line, COLUMNS[SLUG], "slug_taken", msg);
        }
        claimed[j] = true;
        *m = Some(j);
    }
    for (r, m) in rows.iter().zip(matched.iter_mut()) {
        if r.slug.is_some() {
            continue;
        }
        let key = link_key(&r.handle, &r.campaign, &r.destination);
        let mut found = by_key.all(&key).filter(|j| !claimed[*j]);
        match (found.next(), found.next()) {
            (Some(_), Some(_)) => {
                let msg = "several stored links have this handle, campaign and destination; give the slug";
                errors.add(r.line, COLUMNS[SLUG], "ambiguous_link", msg.to_owned());
            }
            (j, _) => *m = j,
        }
    }
    for (r, m) in rows.iter().zip(matched) {
        plan.links.push(planned(r, m.map(|j| &links[j])));
    }

    for p in plan.parts() {
        plan.counts.creates += p.creates;
        plan.counts.updates += p.updates;
        plan.counts.unchanged += p.unchanged;
    }
    errors.finish(plan)
}

/// The link a row asks for, from the stored one it matched (if any).
fn planned(r: &ImportRow, old: Option<&ExistingLink>) -> PlannedLink {
    let mut l = PlannedLink {
        line: r.line,
        action: Action::Create,
        slug: r.slug.clone(),
        influencer: r.handle.clone(),
        campaign: r.campaign.clone(),
        destination: r.destination.clone(),
        format: None,
        posted_at: None,
        product_category: None,
        discount_code: None,
        discount_style: None,
        tags: Vec::new(),
    };
    if let Some(e) = old {
        l.slug = Some(e.slug.clone());
        l.format = e.format;
        l.posted_at = e.posted_at;
        l.product_category = e.product_category.clone();
        l.discount_code = e.discount_code.clone();
        l.discount_style = e.discount_style;
        l.tags = e.tags.clone();
        crate::base::sorting::sort(&mut l.tags);
    }
    r.format.clone().apply(&mut l.format);
    r.posted_at.clone().apply(&mut l.posted_at);
    r.product_category.clone().apply(&mut l.product_category);
    r.code.clone().apply(&mut l.discount_code);
    r.discount_style.clone().apply(&mut l.discount_style);
    match &r.tags {
        Patch::Keep => {}
        Patch::Clear => l.tags.clear(),
        Patch::Set(t) => l.tags = t.clone(),
    }
    l.action = match old {
        None => Action::Create,
        Some(e) => {
            let same = l.destination == e.destination
                && l.format == e.format
                && l.posted_at == e.posted_at
                && l.product_category == e.product_category
                && l.discount_code == e.discount_code
                && l.discount_style == e.discount_style
                && (l.tags == e.tags || {
                    let mut t = e.tags.clone();
                    crate::base::sorting::sort(&mut t);
                    l.tags == t
                });
            if same {
                Action::Unchanged
            } else {
                Action::Update
            }
        }
    };
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    type Want<'a> = Result<Value, &'a [(usize, &'a str, &'a str)]>;

    /// `expected`: the plan's summary, or the errors as (line, column, code).
    fn check(csv: &str, snapshot: &Snapshot, expected: Want) -> Option<Plan> {
        let got = parse_rows(csv, usd()).and_then(|rows| plan(&rows, snapshot));
        match (got, expected) {
            (Ok(p), Ok(want)) => {
                assert_eq!(p.summary(), want, "{csv}");
                return Some(p);
            }
            (Err(e), Err(want)) => {
                let got: Vec<_> = e
                    .iter()
                    .map(|e| (e.line, e.column.as_str(), e.code))
                    .collect();
                assert_eq!(got, want, "{e:#?}");
            }
            (got, want) => panic!("{csv}\ngot {got:#?}\nexpected {want:?}"),
        }
        None
    }

    /// Counts as `[creates, updates, unchanged]` for influencers,
    /// campaigns, codes and links.
    fn summary(parts: [[usize; 3]; 4]) -> Value {
        let c = |[creates, updates, unchanged]: [usize; 3]| json!({"creates": creates, "updates": updates, "unchanged": unchanged});
        let t = |k: usize| parts.iter().map(|p| p[k]).sum::<usize>();
        json!({"creates": t(0), "updates": t(1), "unchanged": t(2),
            "influencers": c(parts[0]), "campaigns": c(parts[1]), "codes": c(parts[2]), "links": c(parts[3])})
    }

    /// What the shell would have stored after writing `plan`.
    fn stored(plan: &Plan) -> Snapshot {
        Snapshot {
            influencers: plan
                .influencers
                .iter()
                .map(|(h, p, _)| (h.clone(), p.clone()))
                .collect(),
            campaigns: plan.campaigns.iter().map(|(c, _)| c.clone()).collect(),
            codes: plan
                .codes
                .iter()
                .map(|(c, h, _)| (c.clone(), h.clone()))
                .collect(),
            links: plan
                .links
                .iter()
                .enumerate()
                .map(|(i, l)| ExistingLink {
                    slug: l
                        .slug
                        .clone()
                        .unwrap_or_else(|| Slug::parse(&format!("gen{i}")).unwrap()),
                    influencer: l.influencer.clone(),
                    campaign: l.campaign.clone(),
                    destination: l.destination.clone(),
                    format: l.format,
                    posted_at: l.posted_at,
                    product_category: l.product_category.clone(),
                    discount_code: l.discount_code.clone(),
                    discount_style: l.discount_style,
                    // Stored in any order.
                    tags: l.tags.iter().rev().cloned().collect(),
                })
                .collect(),
        }
    }

    const HEADER: &str =
        "handle,name,follower_count,campaign,destination,code,tags,format,posted_at";

    /// `n` rows over 20 influencers and 4 campaigns; each influencer's
    /// rows carry its code. `followers` of influencer 3 is given.
    fn generated(n: usize, followers_3: u64) -> String {
        let mut out = String::new();
        csv::write_row(&mut out, &HEADER.split(',').collect::<Vec<_>>());
        for i in 0..n {
            let k = i % 20;
            let followers = if k == 3 { followers_3 } else { k as u64 * 1000 };
            csv::write_row(
                &mut out,
                &[
                    &format!("inf{k}"),
                    &format!("Influencer {k}, \"the {k}th\""),
                    &followers.to_string(),
                    &format!("camp{}", i % 4),
                    &format!("https://shop.example/p/{i}?ref=x"),
                    &format!("INF{k}"),
                    "summer;Sale; summer",
                    ["story", "reel", ""][i % 3],
                    "2026-11-01T10:00:00Z",
                ],
            );
        }
        out
    }

    #[test]
    fn generated_file_creates_then_changes_nothing() {
        let empty = Snapshot::default();
        let p = check(
            &generated(200, 3000),
            &empty,
            Ok(summary([[20, 0, 0], [4, 0, 0], [20, 0, 0], [200, 0, 0]])),
        )
        .unwrap();
        let l = &p.links[7];
        assert_eq!(
            (
                l.line,
                l.influencer.as_str(),
                l.campaign.as_str(),
                l.slug.clone()
            ),
            (9, "inf7", "camp3", None)
        );
        assert_eq!(
            l.tags.iter().map(Tag::as_str).collect::<Vec<_>>(),
            ["sale", "summer"]
        );
        assert_eq!(
            (l.format, l.discount_code.as_ref().map(PromoCode::as_str)),
            (Some(Format::Reel), Some("INF7"))
        );
        assert_eq!(
            p.influencers[3].1.name.as_deref(),
            Some("Influencer 3, \"the 3th\"")
        );
        assert_eq!(p.influencers[3].1.follower_count, Some(3000));
        // The same file again, and an export of it (other column order,
        // export-only columns), change nothing.
        let again = stored(&p);
        check(
            &generated(200, 3000),
            &again,
            Ok(summary([[0, 0, 20], [0, 0, 4], [0, 0, 20], [0, 0, 200]])),
        );
        let mut export = String::new();
        csv::write_row(
            &mut export,
            &[
                "Slug",
                "clicks",
                "Handle",
                "campaign",
                "destination",
                "ROI",
                "tags",
            ],
        );
        for l in p.links.iter().take(3) {
            let i = l.line - 2;
            csv::write_row(
                &mut export,
                &[
                    &format!("gen{i}"),
                    "12",
                    l.influencer.as_str(),
                    l.campaign.as_str(),
                    l.destination.as_str(),
                    "-0.5",
                    "sale;summer",
                ],
            );
        }
        check(
            &export,
            &again,
            Ok(summary([[0, 0, 3], [0, 0, 3], [0, 0, 0], [0, 0, 3]])),
        );
        // One influencer's follower count changed: one update.
        let p = check(
            &generated(200, 3500),
            &again,
            Ok(summary([[0, 1, 19], [0, 0, 4], [0, 0, 20], [0, 0, 200]])),
        )
        .unwrap();
        assert_eq!(
            (p.influencers[3].1.follower_count, p.influencers[3].2),
            (Some(3500), Action::Update)
        );
    }

    #[test]
    fn absent_columns_keep_and_empty_cells_clear() {
        let mia = Handle::parse("mia").unwrap();
        let link = |slug: &str, format| ExistingLink {
            slug: Slug::parse(slug).unwrap(),
            influencer: mia.clone(),
            campaign: CampaignSlug::parse("glow").unwrap(),
            destination: Destination::parse("https://shop.example/serum").unwrap(),
            format,
            posted_at: Some(1_000),
            product_category: UtmValue::parse("skincare").ok(),
            discount_code: PromoCode::parse("MIA10").ok(),
            discount_style: Some(DiscountStyle::Shopify),
            tags: vec![Tag::parse("b").unwrap(), Tag::parse("a").unwrap()],
        };
        let snapshot = Snapshot {
            influencers: vec![(
                mia.clone(),
                Profile {
                    name: Some("Mia".into()),
                    follower_count: Some(5),
                    niche: UtmValue::parse("skin").ok(),
                    ..Profile::default()
                },
            )],
            campaigns: vec![CampaignSlug::parse("glow").unwrap()],
            codes: vec![(PromoCode::parse("MIA10").unwrap(), mia.clone())],
            links: vec![link("mia-story", Some(Format::Story))],
        };
        // name and every link column but format absent: kept; follower_count
        // and format empty: cleared; niche set.
        let p = check(
            "handle,follower_count,niche,campaign,destination,format\n@MIA,,Hair Care,glow,https://shop.example/serum,\n",
            &snapshot,
            Ok(summary([[0, 1, 0], [0, 0, 1], [0, 0, 0], [0, 1, 0]])),
        )
        .unwrap();
        let prof = &p.influencers[0].1;
        assert_eq!(
            (
                prof.name.as_deref(),
                prof.follower_count,
                prof.niche.as_ref().map(UtmValue::as_str)
            ),
            (Some("Mia"), None, Some("hair-care"))
        );
        let mut want = link("mia-story", None);
        want.tags.reverse();
        let l = &p.links[0];
        assert_eq!(
            (
                l.slug.as_ref(),
                l.format,
                l.posted_at,
                &l.product_category,
                &l.discount_code,
                l.discount_style,
                &l.tags
            ),
            (
                Some(&want.slug),
                None,
                want.posted_at,
                &want.product_category,
                &want.discount_code,
                want.discount_style,
                &want.tags
            )
        );
        // Empty link cells clear; tags replace; the slug matches and the
        // destination moves.
        let p = check(
            "slug,handle,campaign,destination,code,discount_style,tags,product_category,posted_at\n\
             mia-story,mia,glow,https://shop.example/new,,,c;a,,2026-11-01\n",
            &snapshot,
            Ok(summary([[0, 0, 1], [0, 0, 1], [0, 0, 0], [0, 1, 0]])),
        )
        .unwrap();
        let l = &p.links[0];
        assert_eq!(
            (
                l.destination.as_str(),
                &l.discount_code,
                l.discount_style,
                &l.product_category
            ),
            ("https://shop.example/new", &None, None, &None)
        );
        assert_eq!(
            (
                l.tags.iter().map(Tag::as_str).collect::<Vec<_>>(),
                l.posted_at
            ),
            (
                vec!["a", "c"],
                time::parse_date("2026-11-01").ok().map(|d| d * time::DAY)
            )
        );
        // Unchanged values; a second stored link with the same destination
        // claimed by its slug leaves one for the row without slug.
        let mut two = snapshot.clone();
        two.links.push(link("mia-reel", Some(Format::Reel)));
        check(
            "handle,campaign,destination,slug,format\nmia,glow,https://shop.example/serum,mia-reel,reel\nmia,glow,https://shop.example/serum,,story\n",
            &two,
            Ok(summary([[0, 0, 1], [0, 0, 1], [0, 0, 0], [0, 0, 2]])),
        );
        check(
            "handle,campaign,destination\nmia,glow,https://shop.example/serum\n",
            &two,
            Err(&[(2, "slug", "ambiguous_link")]),
        );
        // A code owned by another influencer; a slug of another influencer.
        check(
            "handle,campaign,destination,code\nsam,glow,https://shop.example/,Mia10\n",
            &snapshot,
            Err(&[(2, "code", "code_of_other_influencer")]),
        );
        check(
            "handle,campaign,destination,slug\nsam,glow,https://shop.example/,mia-story\n",
            &snapshot,
            Err(&[(2, "slug", "slug_taken")]),
        );
        // The stored contract with a new end before its start.
        let mut dated = snapshot.clone();
        dated.influencers[0].1.contract.start = time::parse_date("2026-11-01").ok();
        check(
            "handle,campaign,destination,contract_end\nmia,glow,https://shop.example/,2026-10-01\n",
            &dated,
            Err(&[(2, "contract_end", "invalid_range")]),
        );
    }

    #[test]
    fn errors_name_line_and_column() {
        let none = &Snapshot::default();
        let ok = |n| Ok(summary([[1, 0, 0], [1, 0, 0], [0, 0, 0], [n, 0, 0]]));
        // A quoted line break in line 3 moves the bad destination to line 7.
        let text = "handle,campaign,destination,tags\n\
                    sarah,glow,https://shop.example/1,a\n\
                    sarah,glow,https://shop.example/2,\"multi\nline\"\n\
                    sarah,glow,https://shop.example/3,\n\
                    \n\
                    sarah,glow,shop.example/4,\n\
                    sarah,glow,https://shop.example/5,\n";
        check(text, none, Err(&[(7, "destination", "relative_url")]));
        check(
            &text.replace("shop.example/4", "https://shop.example/4"),
            none,
            ok(5),
        );
        let h = "handle,campaign,destination,follower_count";
        check(
            &format!("{h}\nsarah,glow,https://s.example/,10k\n"),
            none,
            Err(&[(2, "follower_count", "invalid_value")]),
        );
        check(
            &format!("{h}\nsarah,glow,https://s.example/,-1\n"),
            none,
            Err(&[(2, "follower_count", "invalid_value")]),
        );
        check(
            &format!("{h}\nsarah,glow,https://s.example/,10000000001\n"),
            none,
            Err(&[(2, "follower_count", "invalid_value")]),
        );
        check(
            &format!("\u{feff}{h}\r\nsarah,glow,https://s.example/,10000000000\r\n"),
            none,
            ok(1),
        );
        check(
            "handle,campaign,destination,colour\n",
            none,
            Err(&[(1, "colour", "unknown_column")]),
        );
        check("Handle, CAMPAIGN ,destination,clicks,roi,short_url,tier\nsarah,glow,https://s.example/,1,-2,x,mega\n", none, ok(1));
        check(
            "handle,campaign\n",
            none,
            Err(&[(1, "destination", "missing_column")]),
        );
        check(
            "",
            none,
            Err(&[
                (1, "handle", "missing_column"),
                (1, "campaign", "missing_column"),
                (1, "destination", "missing_column"),
            ]),
        );
        check(
            "handle,campaign,destination,Handle\n",
            none,
            Err(&[(1, "handle", "duplicate_column")]),
        );
        check(
            "handle,campaign,destination\n",
            none,
            Ok(summary([[0; 3]; 4])),
        );
        // Several errors in one file, in line order.
        check(
            "handle,campaign,destination,base_fee,revenue_share_pct,contract_start,contract_end,format,code,slug\n\
             ,glow,https://s.example/,1.234,101,2026-12-01,2026-11-01,tiktok,x,api\n\
             sarah,glow,https://s.example/\n\
             sarah,glow,ftp://s.example/,-5,,,,,,\n",
            none,
            Err(&[
                (2, "handle", "required"),
                (2, "base_fee", "too_precise"),
                (2, "revenue_share_pct", "invalid_value"),
                (2, "contract_end", "invalid_range"),
                (2, "slug", "reserved"),
                (2, "format", "invalid_value"),
                (2, "code", "too_short"),
                (3, "", "field_count"),
                (4, "base_fee", "negative"),
                (4, "destination", "unsupported_scheme"),
            ]),
        );
        check(
            "handle,campaign,destination\n\"sarah,glow\n",
            none,
            Err(&[(2, "", "invalid_csv")]),
        );
        check(
            "handle,campaign,destination\nsa\"rah,glow,https://s.example/\n",
            none,
            Err(&[(2, "", "invalid_csv")]),
        );
        // Across rows: a profile that differs, a slug twice, a link without
        // slug twice, a code of two influencers.
        check(
            "handle,name,campaign,destination,slug,code\n\
             sarah,Sarah,glow,https://s.example/,a1,SARAH1\n\
             @Sarah,Sarah,glow,https://s.example/,,sarah1\n\
             sarah,Sara,glow,https://s.example/,,\n\
             sarah,,glow,https://s.example/x,a1,\n\
             mia,,glow,https://s.example/,,SARAH1\n",
            none,
            Err(&[
                (4, "name", "conflict"),
                (4, "destination", "duplicate_link"),
                (5, "name", "conflict"),
                (5, "slug", "duplicate_slug"),
                (6, "code", "conflict"),
            ]),
        );
        // At most 100 errors.
        let mut many = String::from("handle,campaign,destination\n");
        for _ in 0..150 {
            many.push_str("sarah,glow,nope\n");
        }
        let e = parse_rows(&many, usd()).unwrap_err();
        assert_eq!((e.len(), e[99].line), (MAX_ERRORS, 101));
    }

    #[test]
    fn at_most_5000_rows() {
        let none = &Snapshot::default();
        let rows = |n: usize| {
            let mut s = String::from("handle,campaign,destination\n");
            for i in 0..n {
                s.push_str(&format!("inf{},camp,https://shop.example/{i}\n", i % 50));
            }
            s
        };
        check(
            &rows(5_000),
            none,
            Ok(summary([[50, 0, 0], [1, 0, 0], [0, 0, 0], [5_000, 0, 0]])),
        );
        check(&rows(5_001), none, Err(&[(5_002, "", "too_many_rows")]));
    }
}
