//! The attribution job's pure part: from a batch of conversions and their
//! persons' candidate touchpoints to journeys, paths, credit rows and
//! findings. The shell loads the inputs in a few bulk queries and writes
//! the outputs in D1 batches; everything in between happens here.

use crate::attribution::journey::{self, JourneyConfig, TouchKind, Touchpoint};
use crate::attribution::markov::{End, RemovalEffects, Transitions};
use crate::attribution::models::{self, Model, ModelConfig};
use crate::base::time::Millis;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A conversion waiting for attribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: i64,
    pub occurred_at: Millis,
    pub revenue_minor: i64,
    pub currency: String,
    /// The revenue in the reporting currency; `None` without an exchange
    /// rate (the conversion is then left out of reports and flagged).
    pub reporting_minor: Option<i64>,
    /// Every identity key of the converting person.
    pub keys: BTreeSet<String>,
}

/// A touchpoint that may belong to some pending conversion's journey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub touch: Touchpoint,
    /// The identity keys it was seen with (`v:…`, `c:…`).
    pub keys: Vec<String>,
    /// Code touchpoints belong to exactly one conversion.
    pub conversion_id: Option<i64>,
}

/// The journey of each pending conversion, in input order.
pub fn journeys(
    pending: &[Pending],
    candidates: &[Candidate],
    cfg: &JourneyConfig,
) -> Vec<Vec<Touchpoint>> {
    let mut by_key: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_conversion: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, c) in candidates.iter().enumerate() {
        match c.conversion_id {
            Some(id) => by_conversion.entry(id).or_default().push(i),
            None => c
                .keys
                .iter()
                .for_each(|k| by_key.entry(k).or_default().push(i)),
        }
    }
    pending
        .iter()
        .map(|p| {
            let mut idx: Vec<usize> = p
                .keys
                .iter()
                .filter_map(|k| by_key.get(k.as_str()))
                .flatten()
                .chain(by_conversion.get(&p.id).into_iter().flatten())
                .copied()
                .collect();
            idx.sort();
            idx.dedup();
            let touches = idx
                .into_iter()
                .map(|i| candidates[i].touch.clone())
                .collect();
            journey::assemble(p.occurred_at, touches, cfg)
        })
        .collect()
}

/// The channel-key path of a journey (for the data-driven model).
pub fn path(journey: &[Touchpoint]) -> Vec<String> {
    journey.iter().map(|t| t.channel_key().to_owned()).collect()
}

/// Adds converting paths to `transitions`.
pub fn add_converting<S: AsRef<str>>(transitions: &mut Transitions, paths: &[Vec<S>]) {
    for p in paths {
        transitions.add_path(p, End::Conversion);
    }
}

/// One row of the `credits` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditRow {
    pub conversion_id: i64,
    pub model: &'static str,
    pub position: usize,
    pub touchpoint_key: String,
    pub touch_kind: TouchKind,
    pub touched_at: Millis,
    pub converted_at: Millis,
    pub channel: String,
    pub channel_key: String,
    pub influencer: Option<String>,
    pub campaign: Option<String>,
    pub link: Option<String>,
    pub content: Option<String>,
    pub platform: Option<String>,
    pub app: Option<String>,
    pub code: Option<String>,
    pub revenue_minor: i64,
    pub currency: String,
    pub reporting_minor: Option<i64>,
    pub conversion_micros: i64,
    pub is_assist: bool,
}

/// The credit rows of every conversion under every model.
pub fn credit_rows(
    pending: &[Pending],
    journeys: &[Vec<Touchpoint>],
    cfg: &ModelConfig,
    effects: &RemovalEffects,
) -> Vec<CreditRow> {
    let mut rows = Vec::new();
    for (p, j) in pending.iter().zip(journeys) {
        for model in Model::ALL {
            let w = models::weights(model, j, p.occurred_at, cfg, effects);
            let revenue = models::split(p.revenue_minor, &w);
            let reporting = p.reporting_minor.map(|r| models::split(r, &w));
            let micros = models::split(models::CONVERSION_UNIT, &w);
            for (i, t) in j.iter().enumerate() {
                rows.push(CreditRow {
                    conversion_id: p.id,
                    model: model.as_str(),
                    position: i,
                    touchpoint_key: t.key.clone(),
                    touch_kind: t.kind,
                    touched_at: t.at,
                    converted_at: p.occurred_at,
                    channel: t.channel.clone(),
                    channel_key: t.channel_key().to_owned(),
                    influencer: t.influencer.clone(),
                    campaign: t.campaign.clone(),
                    link: t.link.clone(),
                    content: t.content.clone(),
                    platform: t.platform.clone(),
                    app: t.app.clone(),
                    code: t.code.clone(),
                    revenue_minor: revenue[i],
                    currency: p.currency.clone(),
                    reporting_minor: reporting.as_ref().map(|r| r[i]),
                    conversion_micros: micros[i],
                    is_assist: models::is_assist(j, i),
                });
            }
        }
    }
    rows
}

/// A data-quality finding about one conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: &'static str,
    pub conversion_id: i64,
    pub subject: Option<String>,
    pub detail: BTreeMap<&'static str, String>,
}

/// Per-conversion findings: no touchpoints at all, and codes whose
/// influencer has no click on the journey (a possible code leak).
pub fn findings(pending: &[Pending], journeys: &[Vec<Touchpoint>]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (p, j) in pending.iter().zip(journeys) {
        if p.reporting_minor.is_none() {
            let mut detail = BTreeMap::new();
            detail.insert("currency", p.currency.clone());
            out.push(Finding {
                kind: "missing_fx_rate",
                conversion_id: p.id,
                subject: Some(p.currency.clone()),
                detail,
            });
        }
        if j.is_empty() {
            out.push(Finding {
                kind: "no_touchpoints",
                conversion_id: p.id,
                subject: None,
                detail: BTreeMap::new(),
            });
        }
        let clicked: BTreeSet<&str> = j
            .iter()
            .filter(|t| t.kind == TouchKind::Click)
            .filter_map(|t| t.influencer.as_deref())
            .collect();
        for t in j.iter().filter(|t| t.kind == TouchKind::Code) {
            let influencer = t.influencer.as_deref().unwrap_or("");
            if !clicked.contains(influencer) {
                let mut detail = BTreeMap::new();
                detail.insert("influencer", influencer.to_owned());
                out.push(Finding {
                    kind: "code_without_clicks",
                    conversion_id: p.id,
                    subject: t.code.clone(),
                    detail,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribution::journey::INFLUENCER_CHANNEL;
    use crate::base::time::DAY;

    fn touch(
        key: &str,
        kind: TouchKind,
        at: Millis,
        influencer: Option<&str>,
        channel: &str,
    ) -> Touchpoint {
        Touchpoint {
            key: key.into(),
            kind,
            at,
            channel: channel.into(),
            influencer: influencer.map(Into::into),
            campaign: None,
            link: Some(format!("link-{key}")),
            content: None,
            platform: None,
            code: (kind == TouchKind::Code).then(|| "SARAH20".into()),
            app: None,
            source: None,
            medium: None,
            is_bot: false,
        }
    }

    fn pending(id: i64, keys: &[&str]) -> Pending {
        Pending {
            id,
            occurred_at: 10 * DAY,
            revenue_minor: 10_000,
            currency: "USD".into(),
            reporting_minor: Some(10_000),
            keys: keys.iter().map(|k| k.to_string()).collect(),
        }
    }

    #[test]
    fn candidates_are_matched_by_person_and_conversion() {
        let candidates = vec![
            Candidate {
                touch: touch(
                    "click:1",
                    TouchKind::Click,
                    DAY,
                    Some("sarah"),
                    INFLUENCER_CHANNEL,
                ),
                keys: vec!["v:a".into()],
                conversion_id: None,
            },
            Candidate {
                touch: touch("tp:2", TouchKind::Channel, 2 * DAY, None, "email"),
                keys: vec!["c:9".into()],
                conversion_id: None,
            },
            Candidate {
                touch: touch(
                    "code:3",
                    TouchKind::Code,
                    10 * DAY,
                    Some("marco"),
                    INFLUENCER_CHANNEL,
                ),
                keys: vec![],
                conversion_id: Some(2),
            },
            Candidate {
                touch: touch(
                    "click:4",
                    TouchKind::Click,
                    DAY,
                    Some("jade"),
                    INFLUENCER_CHANNEL,
                ),
                keys: vec!["v:other".into()],
                conversion_id: None,
            },
        ];
        let p = vec![pending(1, &["v:a", "c:9"]), pending(2, &["v:zzz"])];
        let j = journeys(&p, &candidates, &JourneyConfig::default());
        let keys = |j: &[Touchpoint]| j.iter().map(|t| t.key.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&j[0]), vec!["click:1", "tp:2"]);
        assert_eq!(keys(&j[1]), vec!["code:3"]);
        assert_eq!(path(&j[0]), vec!["sarah", "email"]);

        let rows = credit_rows(&p, &j, &ModelConfig::default(), &RemovalEffects::default());
        assert_eq!(rows.len(), 6 * 2 + 6);
        for m in Model::ALL {
            let total: i64 = rows
                .iter()
                .filter(|r| r.model == m.as_str() && r.conversion_id == 1)
                .map(|r| r.revenue_minor)
                .sum();
            assert_eq!(total, 10_000);
        }
        let assists: Vec<bool> = rows
            .iter()
            .filter(|r| r.model == "linear" && r.conversion_id == 1)
            .map(|r| r.is_assist)
            .collect();
        assert_eq!(
            assists,
            vec![true, false],
            "sarah's click assists the email"
        );

        let f = findings(&p, &j);
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].kind, f[0].conversion_id, f[0].subject.as_deref()),
            ("code_without_clicks", 2, Some("SARAH20"))
        );
        let none = findings(&[pending(3, &[])], &[vec![]]);
        assert_eq!(none[0].kind, "no_touchpoints");
    }
}
