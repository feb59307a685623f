//! The plan: validated rows matched against a [`Snapshot`] of what is
//! stored, saying for every influencer, campaign, code and link whether it
//! is created, updated or unchanged ([`Action`]).

use super::cells::ImportRow;
use super::columns::{CODE, COLUMNS, SLUG};
use super::lookup::{code_key, link_key, Lookup};
use super::row_error::{Errors, RowError};
use crate::base::body::Patch;
use crate::base::time::Millis;
use crate::links::code::PromoCode;
use crate::links::destination::Destination;
use crate::links::discount::DiscountStyle;
use crate::links::link::Format;
use crate::links::slug::Slug;
use crate::links::utm_names::{CampaignSlug, Handle, Tag, UtmValue};
use crate::roster::influencers::Profile;
use serde::Serialize;
use serde_json::{json, Value};

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

fn action<T: PartialEq>(old: Option<&T>, new: &T) -> Action {
    match old {
        None => Action::Create,
        Some(o) if o == new => Action::Unchanged,
        Some(_) => Action::Update,
    }
}

/// Matches validated rows (from [`parse_rows`](super::parse_rows)) against
/// what is stored. Errors: a code of another influencer, a slug of another
/// influencer or campaign, several stored links a row without slug could
/// be, a contract that would end before it starts.
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
        l.tags.sort();
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
                    t.sort();
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
mod tests;
