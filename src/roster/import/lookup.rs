//! The keys rows and stored links are matched by: a [`Lookup`] of
//! positions by key, the (handle, campaign, destination) key of a link and
//! the code of a row.

use super::cells::ImportRow;
use crate::base::body::Patch;
use crate::links::destination::Destination;
use crate::links::utm_names::{CampaignSlug, Handle};

/// Positions by key: a sorted list searched by bisection, ties in position
/// order (no B-tree: wasm size).
pub(super) struct Lookup<'a>(Vec<(&'a str, usize)>);

impl<'a> Lookup<'a> {
    pub(super) fn new(keys: impl Iterator<Item = &'a str>) -> Lookup<'a> {
        let mut v: Vec<_> = keys.zip(0..).collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        Lookup(v)
    }

    pub(super) fn all<'s>(&'s self, key: &'s str) -> impl Iterator<Item = usize> + 's {
        let from = self.0.partition_point(|(k, _)| *k < key);
        self.0[from..]
            .iter()
            .take_while(move |(k, _)| *k == key)
            .map(|(_, i)| *i)
    }

    pub(super) fn first(&self, key: &str) -> Option<usize> {
        self.all(key).next()
    }
}

pub(super) fn link_key(h: &Handle, c: &CampaignSlug, d: &Destination) -> String {
    // Neither handles, campaign slugs nor URLs contain a space.
    format!("{h} {c} {}", d.as_str())
}

pub(super) fn code_key(r: &ImportRow) -> &str {
    match &r.code {
        Patch::Set(c) => c.as_str(),
        _ => "",
    }
}
