//! Attribution models: splitting a conversion over its journey.
//!
//! V is the conversion's value, n the number of touchpoints, Δᵢ the time
//! from touchpoint i to the conversion.
//! * `first_touch`: all of V to the first touchpoint;
//! * `last_touch`: all of V to the last;
//! * `linear`: V/n each;
//! * `time_decay`: wᵢ = 2^(−Δᵢ/H), half-life H (7 days by default);
//! * `position_based`: n = 1: 100%; n = 2: 50/50; n ≥ 3: 40% first, 40%
//!   last, 20% split evenly over the middle (configurable);
//! * `data_driven`: V in proportion to the Markov removal effect of each
//!   touchpoint's channel key ([`crate::attribution::markov`]); linear when all are 0.
//!
//! **Exact money.** Every model produces integer weights, and [`split`]
//! divides the revenue (integer minor units) by the largest-remainder
//! method, ties going to the earlier touchpoint, so the credits sum to the
//! revenue exactly. Fractional conversion credit is split the same way in
//! millionths and sums to exactly 1 000 000.

use crate::attribution::journey::Touchpoint;
use crate::attribution::markov::RemovalEffects;
use crate::base::time::{Millis, DAY};
use serde::Serialize;

/// One conversion, in millionths.
pub const CONVERSION_UNIT: i64 = 1_000_000;

/// Fixed-point scale for real-valued weights (time decay, removal effects).
const REAL_SCALE: f64 = (1u64 << 52) as f64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    FirstTouch,
    LastTouch,
    Linear,
    TimeDecay,
    PositionBased,
    DataDriven,
}

impl Model {
    pub const ALL: [Model; 6] = [
        Model::FirstTouch,
        Model::LastTouch,
        Model::Linear,
        Model::TimeDecay,
        Model::PositionBased,
        Model::DataDriven,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Model::FirstTouch => "first_touch",
            Model::LastTouch => "last_touch",
            Model::Linear => "linear",
            Model::TimeDecay => "time_decay",
            Model::PositionBased => "position_based",
            Model::DataDriven => "data_driven",
        }
    }

    pub fn parse(s: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// The position-based split, in percent; sums to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositionSplit {
    pub first: u32,
    pub middle: u32,
    pub last: u32,
}

/// Model parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelConfig {
    pub half_life: Millis,
    pub position: PositionSplit,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            half_life: 7 * DAY,
            position: PositionSplit {
                first: 40,
                middle: 20,
                last: 40,
            },
        }
    }
}

/// The credit of one touchpoint under one model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Credit {
    pub revenue_minor: i64,
    pub conversion_micros: i64,
}

/// Splits `total` (≥ 0) in proportion to `weights` by the largest-remainder
/// method: each part is ⌊total·wᵢ/W⌋, and the leftover units go to the
/// largest remainders, ties to the lower index. All-zero weights split
/// evenly. The parts always sum to `total`.
pub fn split(total: i64, weights: &[u128]) -> Vec<i64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let sum: u128 = weights.iter().sum();
    if sum == 0 {
        return split(total, &vec![1; weights.len()]);
    }
    let t = total.max(0) as u128;
    let mut parts: Vec<i64> = Vec::with_capacity(weights.len());
    let mut rems: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        // t < 2^63 and w ≤ 2^64 in practice, so t·w fits in u128.
        let prod = t * w;
        parts.push((prod / sum) as i64);
        rems.push((prod % sum, i));
    }
    let leftover = total.max(0) - parts.iter().sum::<i64>();
    rems.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rems.into_iter().take(leftover as usize) {
        parts[i] += 1;
    }
    parts
}

fn real_weight(x: f64) -> u128 {
    if x.is_finite() && x > 0.0 {
        (x * REAL_SCALE).round() as u128
    } else {
        0
    }
}

/// The integer weights of a model for a journey (sorted, non-empty).
pub fn weights(
    model: Model,
    journey: &[Touchpoint],
    converted_at: Millis,
    cfg: &ModelConfig,
    effects: &RemovalEffects,
) -> Vec<u128> {
    let n = journey.len();
    let mut w = vec![0u128; n];
    if n == 0 {
        return w;
    }
    match model {
        Model::FirstTouch => w[0] = 1,
        Model::LastTouch => w[n - 1] = 1,
        Model::Linear => w.iter_mut().for_each(|x| *x = 1),
        Model::TimeDecay => {
            // Relative to the latest touchpoint, so the largest weight is 1.
            let latest = journey
                .iter()
                .map(|t| converted_at - t.at)
                .min()
                .unwrap_or(0);
            let h = cfg.half_life.max(1) as f64;
            for (x, t) in w.iter_mut().zip(journey) {
                let delta = (converted_at - t.at - latest) as f64;
                *x = real_weight((-delta / h).exp2());
            }
        }
        Model::PositionBased => match n {
            1 => w[0] = 1,
            2 => w.iter_mut().for_each(|x| *x = 1),
            _ => {
                // first·(n−2) : middle each : last·(n−2) is first% : middle%/(n−2) : last%.
                let m = (n - 2) as u128;
                let p = cfg.position;
                w[0] = u128::from(p.first) * m;
                w[n - 1] = u128::from(p.last) * m;
                w[1..n - 1]
                    .iter_mut()
                    .for_each(|x| *x = u128::from(p.middle));
            }
        },
        Model::DataDriven => {
            for (x, t) in w.iter_mut().zip(journey) {
                *x = real_weight(effects.get(t.channel_key()));
            }
            if w.iter().all(|x| *x == 0) {
                w.iter_mut().for_each(|x| *x = 1);
            }
        }
    }
    w
}

/// The credits of a journey under a model: revenue and conversion credit
/// per touchpoint, each summing exactly to its total.
pub fn credit(
    model: Model,
    journey: &[Touchpoint],
    converted_at: Millis,
    revenue_minor: i64,
    cfg: &ModelConfig,
    effects: &RemovalEffects,
) -> Vec<Credit> {
    let w = weights(model, journey, converted_at, cfg, effects);
    let revenue = split(revenue_minor, &w);
    let conversions = split(CONVERSION_UNIT, &w);
    revenue
        .into_iter()
        .zip(conversions)
        .map(|(revenue_minor, conversion_micros)| Credit {
            revenue_minor,
            conversion_micros,
        })
        .collect()
}

/// Whether touchpoint `i` of a journey of `n` assists: an influencer
/// touchpoint that is not the last one.
pub fn is_assist(journey: &[Touchpoint], i: usize) -> bool {
    i + 1 < journey.len() && journey[i].influencer.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribution::journey::{TouchKind, INFLUENCER_CHANNEL};
    use crate::attribution::markov::{End, Transitions};
    use proptest::prelude::*;

    fn touch(key: &str, at: Millis, channel_key: &str) -> Touchpoint {
        let influencer = channel_key != "email";
        Touchpoint {
            key: key.into(),
            kind: if influencer {
                TouchKind::Click
            } else {
                TouchKind::Channel
            },
            at,
            channel: if influencer {
                INFLUENCER_CHANNEL.into()
            } else {
                channel_key.into()
            },
            influencer: influencer.then(|| channel_key.into()),
            campaign: None,
            link: None,
            content: None,
            platform: None,
            code: None,
            app: None,
            source: None,
            medium: None,
            is_bot: false,
        }
    }

    /// The worked example: touchpoints on days 0, 5 and 9, the conversion
    /// on day 10, V = 100.00.
    fn journey() -> Vec<Touchpoint> {
        vec![
            touch("t1", 0, "sarah"),
            touch("t2", 5 * DAY, "marco"),
            touch("t3", 9 * DAY, "email"),
        ]
    }

    fn check(model: Model, effects: &RemovalEffects, expected: [i64; 3]) {
        let credits = credit(
            model,
            &journey(),
            10 * DAY,
            10_000,
            &ModelConfig::default(),
            effects,
        );
        let cents: Vec<i64> = credits.iter().map(|c| c.revenue_minor).collect();
        assert_eq!(cents, expected, "{model:?}");
        assert_eq!(
            credits.iter().map(|c| c.conversion_micros).sum::<i64>(),
            CONVERSION_UNIT
        );
    }

    #[test]
    fn worked_examples_to_the_cent() {
        let none = RemovalEffects::default();
        check(Model::FirstTouch, &none, [10_000, 0, 0]);
        check(Model::LastTouch, &none, [0, 0, 10_000]);
        // 3333.33 each; the leftover cent goes to the first (ties: earlier).
        check(Model::Linear, &none, [3_334, 3_333, 3_333]);
        // w = 2^(-10/7), 2^(-5/7), 2^(-1/7) = 0.371535, 0.609507, 0.905724;
        // shares 1969.0086, 3230.4947, 4800.4967: floors sum to 9999, the
        // leftover cent goes to the largest remainder (.4967, the third).
        check(Model::TimeDecay, &none, [1_969, 3_230, 4_801]);
        check(Model::PositionBased, &none, [4_000, 2_000, 4_000]);
        // The paths of markov.rs's worked example give RE sarah 0.5,
        // marco 0.5, email 1.0: shares 1/4, 1/4, 1/2.
        let mut t = Transitions::default();
        t.add_path(&["sarah", "marco", "email"], End::Conversion);
        t.add_path(&["sarah"], End::Null);
        t.add_path(&["marco", "email"], End::Conversion);
        t.add_path(&["email"], End::Null);
        t.add_path(&["sarah", "email"], End::Conversion);
        check(
            Model::DataDriven,
            &t.removal_effects(),
            [2_500, 2_500, 5_000],
        );
        // All removal effects 0: linear.
        check(Model::DataDriven, &none, [3_334, 3_333, 3_333]);
    }

    #[test]
    fn position_based_small_journeys() {
        let cfg = ModelConfig::default();
        let none = RemovalEffects::default();
        let j = journey();
        let one = credit(Model::PositionBased, &j[..1], 10 * DAY, 999, &cfg, &none);
        assert_eq!(one[0].revenue_minor, 999);
        let two: Vec<i64> = credit(Model::PositionBased, &j[..2], 10 * DAY, 999, &cfg, &none)
            .iter()
            .map(|c| c.revenue_minor)
            .collect();
        assert_eq!(two, vec![500, 499]);
        let mut four = j.clone();
        four.insert(1, touch("t1b", DAY, "jade"));
        let cents: Vec<i64> = credit(Model::PositionBased, &four, 10 * DAY, 10_000, &cfg, &none)
            .iter()
            .map(|c| c.revenue_minor)
            .collect();
        assert_eq!(cents, vec![4_000, 1_000, 1_000, 4_000]);
    }

    #[test]
    fn split_edge_cases() {
        assert_eq!(split(0, &[1, 2, 3]), vec![0, 0, 0]);
        assert_eq!(split(5, &[0, 0]), vec![3, 2]);
        assert_eq!(split(1, &[1, 1, 1]), vec![1, 0, 0]);
        assert_eq!(split(100, &[]), Vec::<i64>::new());
        assert_eq!(
            split(i64::MAX, &[1, 1]),
            vec![i64::MAX / 2 + 1, i64::MAX / 2]
        );
    }

    fn arb_journey() -> impl Strategy<Value = (Vec<Touchpoint>, Millis)> {
        proptest::collection::vec(
            (
                0i64..60 * DAY,
                prop_oneof![Just("a"), Just("b"), Just("c"), Just("email")],
            ),
            1..12,
        )
        .prop_map(|mut v| {
            v.sort();
            let conv = v.last().map(|x| x.0).unwrap_or(0) + 1;
            (
                v.iter()
                    .enumerate()
                    .map(|(i, (at, k))| touch(&format!("k{i:02}"), *at, k))
                    .collect(),
                conv,
            )
        })
    }

    proptest! {
        #[test]
        fn credits_sum_exactly_and_are_never_negative((j, conv) in arb_journey(), value in 0i64..1_000_000_000, re in proptest::collection::vec(0.0f64..1.0, 4)) {
            let effects = RemovalEffects {
                p_conversion: 0.5,
                effects: ["a", "b", "c", "email"].iter().zip(re).map(|(k, v)| (k.to_string(), v)).collect(),
            };
            for m in Model::ALL {
                let c = credit(m, &j, conv, value, &ModelConfig::default(), &effects);
                prop_assert_eq!(c.len(), j.len());
                prop_assert_eq!(c.iter().map(|x| x.revenue_minor).sum::<i64>(), value, "{:?}", m);
                prop_assert_eq!(c.iter().map(|x| x.conversion_micros).sum::<i64>(), CONVERSION_UNIT);
                prop_assert!(c.iter().all(|x| x.revenue_minor >= 0 && x.conversion_micros >= 0));
            }
        }

        #[test]
        fn all_models_agree_on_a_single_touch((j, conv) in arb_journey(), value in 0i64..1_000_000) {
            let single = &j[..1];
            for m in Model::ALL {
                let c = credit(m, single, conv, value, &ModelConfig::default(), &RemovalEffects::default());
                prop_assert_eq!(c, vec![Credit { revenue_minor: value, conversion_micros: CONVERSION_UNIT }]);
            }
        }

        #[test]
        fn first_and_last_touch_mirror_under_reversal((j, conv) in arb_journey(), value in 0i64..1_000_000) {
            let none = RemovalEffects::default();
            let cfg = ModelConfig::default();
            let first = credit(Model::FirstTouch, &j, conv, value, &cfg, &none);
            let mut reversed = j.clone();
            reversed.reverse();
            let mut last = credit(Model::LastTouch, &reversed, conv, value, &cfg, &none);
            last.reverse();
            prop_assert_eq!(first, last);
        }
    }
}
