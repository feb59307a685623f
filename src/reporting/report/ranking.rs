//! The ranking: influencers ordered by ROI and tiered by tercile, with a
//! minimum sample of unique clicks.

/// Influencers need at least this many unique clicks to be tiered.
pub const MIN_SAMPLE_UNIQUE_CLICKS: i64 = 20;

/// One influencer's numbers, for the ranking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankInput {
    pub influencer: String,
    pub unique_clicks: i64,
    pub revenue_minor: i64,
    pub cost_minor: i64,
}

/// Where an influencer stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub influencer: String,
    /// 1-based, by ROI, among tiered influencers.
    pub rank: Option<usize>,
    /// 1, 2 or 3 by ROI tercile; `None` below the minimum sample or
    /// without cost (no ROI).
    pub tier: Option<u8>,
    /// (revenue − cost) / cost, in ten-thousandths.
    pub roi_bp: Option<i64>,
    pub reason: Option<&'static str>,
}

/// Ranks influencers by ROI and tiers them by tercile. Ties rank by
/// handle. Tier sizes: the first ⌈n/3⌉ are tier 1, the next ⌈(n−t₁)/2⌉
/// tier 2, the rest tier 3.
pub fn rank(inputs: &[RankInput], min_sample: i64) -> Vec<Ranked> {
    let roi_bp = |i: &RankInput| -> Option<i64> {
        (i.cost_minor > 0).then(|| {
            let n = (i128::from(i.revenue_minor) - i128::from(i.cost_minor)) * 10_000;
            let d = i128::from(i.cost_minor);
            let (q, r) = (n / d, n % d);
            (if (r * 2).abs() >= d {
                q + n.signum()
            } else {
                q
            }) as i64
        })
    };
    let mut eligible: Vec<(&RankInput, i64)> = inputs
        .iter()
        .filter(|i| i.unique_clicks >= min_sample)
        .filter_map(|i| roi_bp(i).map(|r| (i, r)))
        .collect();
    eligible.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| a.0.influencer.cmp(&b.0.influencer))
    });
    let n = eligible.len();
    let t1 = n.div_ceil(3);
    let t2 = (n - t1).div_ceil(2);
    let mut out: Vec<Ranked> = eligible
        .iter()
        .enumerate()
        .map(|(i, (inp, r))| Ranked {
            influencer: inp.influencer.clone(),
            rank: Some(i + 1),
            tier: Some(if i < t1 {
                1
            } else if i < t1 + t2 {
                2
            } else {
                3
            }),
            roi_bp: Some(*r),
            reason: None,
        })
        .collect();
    let mut rest: Vec<Ranked> = inputs
        .iter()
        .filter(|i| !out.iter().any(|o| o.influencer == i.influencer))
        .map(|i| Ranked {
            influencer: i.influencer.clone(),
            rank: None,
            tier: None,
            roi_bp: roi_bp(i),
            reason: Some(if i.unique_clicks < min_sample {
                "below_minimum_sample"
            } else {
                "no_cost"
            }),
        })
        .collect();
    rest.sort_by(|a, b| a.influencer.cmp(&b.influencer));
    out.extend(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(h: &str, unique: i64, revenue: i64, cost: i64) -> RankInput {
        RankInput {
            influencer: h.into(),
            unique_clicks: unique,
            revenue_minor: revenue,
            cost_minor: cost,
        }
    }

    #[test]
    fn terciles_and_minimum_sample() {
        let r = rank(
            &[
                input("a", 100, 30_000, 10_000), // ROI 2.0
                input("b", 100, 20_000, 10_000), // 1.0
                input("c", 100, 15_000, 10_000), // 0.5
                input("d", 100, 10_000, 10_000), // 0.0
                input("e", 100, 5_000, 10_000),  // -0.5
                input("f", 5, 90_000, 10_000),   // too few clicks
                input("g", 100, 9_000, 0),       // no cost
            ],
            MIN_SAMPLE_UNIQUE_CLICKS,
        );
        type Standing<'a> = (&'a str, Option<usize>, Option<u8>, Option<i64>);
        let got: Vec<Standing> = r
            .iter()
            .map(|x| (x.influencer.as_str(), x.rank, x.tier, x.roi_bp))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", Some(1), Some(1), Some(20_000)),
                ("b", Some(2), Some(1), Some(10_000)),
                ("c", Some(3), Some(2), Some(5_000)),
                ("d", Some(4), Some(2), Some(0)),
                ("e", Some(5), Some(3), Some(-5_000)),
                ("f", None, None, Some(80_000)),
                ("g", None, None, None),
            ]
        );
        assert_eq!(
            (r[5].reason, r[6].reason),
            (Some("below_minimum_sample"), Some("no_cost"))
        );
    }
}
