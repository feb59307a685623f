//! Identity stitching: the ids that belong to one person.
//!
//! An identity is a key `kind:value` — `v:` visitor id (the `lc_vid`
//! cookie), `c:` customer id, `e:` email SHA-256. D1 keeps one row per key
//! with its `person_id`. Any event that carries two or more ids links them:
//! their persons are merged into one (union), so a click on the phone
//! (visitor A) and an order on the laptop under customer C, once A and C
//! were seen together, are one journey.
//!
//! Deterministic: a new person is named after its smallest key, and a merge
//! keeps the smallest existing person id.

use std::collections::BTreeSet;

/// The kinds of id that can be stitched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdKind {
    Visitor,
    Customer,
    Email,
}

impl IdKind {
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::Visitor => "v",
            IdKind::Customer => "c",
            IdKind::Email => "e",
        }
    }
}

/// The identity key of an id.
pub fn key(kind: IdKind, value: &str) -> String {
    format!("{}:{value}", kind.prefix())
}

/// The value of a key of `kind`, if it is one.
pub fn value_of(key: &str, kind: IdKind) -> Option<&str> {
    key.strip_prefix(kind.prefix())
        .and_then(|r| r.strip_prefix(':'))
}

/// The ids a data-subject request erases: the id asked for (as a visitor
/// and as a customer id, since the path does not say which) and every id
/// stitched to it (`keys`: the identity keys of its persons).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erasure {
    pub visitors: Vec<String>,
    pub customers: Vec<String>,
    pub emails: Vec<String>,
}

impl Erasure {
    pub fn plan(id: &str, keys: &[String]) -> Erasure {
        let mut e = Erasure {
            visitors: vec![id.to_owned()],
            customers: vec![id.to_owned()],
            emails: Vec::new(),
        };
        for k in keys {
            for (kind, list) in [
                (IdKind::Visitor, &mut e.visitors),
                (IdKind::Customer, &mut e.customers),
                (IdKind::Email, &mut e.emails),
            ] {
                if let Some(v) = value_of(k, kind) {
                    if !list.iter().any(|x| x == v) {
                        list.push(v.to_owned());
                    }
                }
            }
        }
        e
    }
}

/// What to write to link `keys`, given the persons some of them already
/// belong to (`existing`: `(key, person_id)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPlan {
    /// The person all the keys belong to afterwards.
    pub person: String,
    /// Keys to insert with `person` (those not stored yet).
    pub insert: Vec<String>,
    /// Other persons whose keys move to `person` (the merge).
    pub merge: Vec<String>,
}

/// Plans the link of `keys`; `None` when there is nothing to link (fewer
/// than two keys, or all of them already one person).
pub fn plan(keys: &[String], existing: &[(String, String)]) -> Option<LinkPlan> {
    let keys: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
    if keys.len() < 2 {
        return None;
    }
    let persons: BTreeSet<&str> = existing
        .iter()
        .filter(|(k, _)| keys.contains(k.as_str()))
        .map(|(_, p)| p.as_str())
        .collect();
    let stored: BTreeSet<&str> = existing.iter().map(|(k, _)| k.as_str()).collect();
    let insert: Vec<String> = keys
        .iter()
        .filter(|k| !stored.contains(*k))
        .map(|k| (*k).to_owned())
        .collect();
    let person = match persons.iter().next() {
        Some(p) => (*p).to_owned(),
        None => format!("p:{}", keys.iter().next().expect("two keys")),
    };
    let merge: Vec<String> = persons.iter().skip(1).map(|p| (*p).to_owned()).collect();
    if insert.is_empty() && merge.is_empty() {
        return None;
    }
    Some(LinkPlan {
        person,
        insert,
        merge,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erasure_covers_every_stitched_id() {
        let keys: Vec<String> = ["v:AAA", "c:cust-1", "e:abc123", "v:BBB", "c:cust-1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let e = Erasure::plan("AAA", &keys);
        assert_eq!(e.visitors, ["AAA", "BBB"]);
        assert_eq!(e.customers, ["AAA", "cust-1"]);
        assert_eq!(e.emails, ["abc123"]);
        assert_eq!(
            Erasure::plan("x", &[]),
            Erasure {
                visitors: vec!["x".into()],
                customers: vec!["x".into()],
                emails: vec![],
            }
        );
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn keys() {
        assert_eq!(key(IdKind::Visitor, "abc"), "v:abc");
        assert_eq!(value_of("c:42", IdKind::Customer), Some("42"));
        assert_eq!(value_of("c:42", IdKind::Visitor), None);
    }

    #[test]
    fn plans() {
        // One id: nothing to link.
        assert_eq!(plan(&s(&["v:a"]), &[]), None);
        // Two new ids: a new person named after the smallest key.
        assert_eq!(
            plan(&s(&["v:a", "c:1"]), &[]),
            Some(LinkPlan {
                person: "p:c:1".into(),
                insert: s(&["c:1", "v:a"]),
                merge: vec![]
            })
        );
        // One known: the other joins its person.
        assert_eq!(
            plan(&s(&["v:b", "c:1"]), &pairs(&[("c:1", "p:c:1")])),
            Some(LinkPlan {
                person: "p:c:1".into(),
                insert: s(&["v:b"]),
                merge: vec![]
            })
        );
        // Two known persons: merged into the smaller one.
        assert_eq!(
            plan(
                &s(&["v:z", "c:1"]),
                &pairs(&[("c:1", "p:c:1"), ("v:z", "p:a")])
            ),
            Some(LinkPlan {
                person: "p:a".into(),
                insert: vec![],
                merge: s(&["p:c:1"])
            })
        );
        // Already one person: nothing to do.
        assert_eq!(
            plan(&s(&["v:a", "c:1"]), &pairs(&[("c:1", "p"), ("v:a", "p")])),
            None
        );
    }
}
