//! Native benchmarks of the pure core (`make bench`): the attribution
//! models, the data-driven table, and journey assembly. Prints a table and
//! writes `bench/core.json`. Single-threaded; run on a quiet machine.

use linkcredit::attribution::batch::{self, Candidate, Pending};
use linkcredit::attribution::journey::{JourneyConfig, TouchKind, Touchpoint, INFLUENCER_CHANNEL};
use linkcredit::attribution::markov::{End, RemovalEffects, Transitions};
use linkcredit::attribution::models::{self, Model, ModelConfig};
use linkcredit::base::time::{Millis, DAY, MINUTE};
use std::hint::black_box;
use std::time::Instant;

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const HANDLES: [&str; 8] = [
    "sarah", "marco", "jade", "lena", "omar", "kai", "zoe", "ravi",
];

fn touch(i: usize, at: Millis, handle: &str) -> Touchpoint {
    Touchpoint {
        key: format!("click:{i:08}"),
        kind: TouchKind::Click,
        at,
        channel: INFLUENCER_CHANNEL.into(),
        influencer: Some(handle.into()),
        campaign: Some("summer".into()),
        link: Some(format!("{handle}-link")),
        content: None,
        platform: None,
        code: None,
        app: Some("instagram".into()),
        source: None,
        medium: None,
        is_bot: false,
    }
}

struct Row {
    name: String,
    value: f64,
    unit: &'static str,
    target: String,
    ok: bool,
}

fn main() {
    let mut rows: Vec<Row> = Vec::new();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let cfg = ModelConfig::default();

    // 1. Rule-based models: 1M journeys of 5 touchpoints (5M touchpoints).
    let journeys: Vec<Vec<Touchpoint>> = (0..1_000_000)
        .map(|j| {
            (0..5)
                .map(|i| {
                    touch(
                        j * 5 + i,
                        (i as i64) * 2 * DAY + rng.below(DAY as u64) as i64,
                        HANDLES[rng.below(8) as usize],
                    )
                })
                .collect()
        })
        .collect();
    let touchpoints: usize = journeys.iter().map(Vec::len).sum();
    let none = RemovalEffects::default();
    for model in [
        Model::FirstTouch,
        Model::LastTouch,
        Model::Linear,
        Model::TimeDecay,
        Model::PositionBased,
    ] {
        let start = Instant::now();
        let mut check = 0i64;
        for j in &journeys {
            let credits = models::credit(model, black_box(j), 10 * DAY, 12_345, &cfg, &none);
            check += credits.iter().map(|c| c.revenue_minor).sum::<i64>();
        }
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(check, 12_345 * journeys.len() as i64);
        let rate = touchpoints as f64 / secs;
        rows.push(Row {
            name: format!("{} (5M touchpoints)", model.as_str()),
            value: rate / 1e6,
            unit: "M touchpoints/s",
            target: ">= 5".into(),
            ok: rate >= 5e6,
        });
    }

    // 2. Data-driven: 1M paths of 5 channels, then the removal effects, then
    //    crediting with them.
    let start = Instant::now();
    let mut t = Transitions::default();
    for j in &journeys {
        let keys: [&str; 5] = std::array::from_fn(|i| j[i].influencer.as_deref().unwrap_or(""));
        t.add_path(
            &keys,
            if rng.below(3) == 0 {
                End::Conversion
            } else {
                End::Null
            },
        );
    }
    let effects = t.removal_effects();
    let secs = start.elapsed().as_secs_f64();
    rows.push(Row {
        name: "data_driven table (1M paths x 5 channels)".into(),
        value: secs,
        unit: "s",
        target: "< 2".into(),
        ok: secs < 2.0,
    });
    let start = Instant::now();
    for j in &journeys {
        black_box(models::credit(
            Model::DataDriven,
            j,
            10 * DAY,
            12_345,
            &cfg,
            &effects,
        ));
    }
    let rate = touchpoints as f64 / start.elapsed().as_secs_f64();
    rows.push(Row {
        name: "data_driven credit (5M touchpoints)".into(),
        value: rate / 1e6,
        unit: "M touchpoints/s",
        target: "-".into(),
        ok: true,
    });
    drop(journeys);

    // 3. Journey assembly: 100k conversions, 500k candidate touchpoints
    //    (5 per person, some outside the window, some repeats).
    let conversions = 100_000usize;
    let pending: Vec<Pending> = (0..conversions)
        .map(|i| Pending {
            id: i as i64,
            occurred_at: 90 * DAY,
            revenue_minor: 5_000,
            currency: "USD".into(),
            reporting_minor: Some(5_000),
            keys: [format!("v:{i:08}")].into_iter().collect(),
        })
        .collect();
    let candidates: Vec<Candidate> = (0..conversions * 5)
        .map(|i| {
            let person = i / 5;
            let at = 90 * DAY - rng.below(70 * DAY as u64) as i64 - (i % 2) as i64 * 10 * MINUTE;
            Candidate {
                touch: touch(i, at, HANDLES[rng.below(8) as usize]),
                keys: vec![format!("v:{person:08}")],
                conversion_id: None,
            }
        })
        .collect();
    let jcfg = JourneyConfig::default();
    let start = Instant::now();
    let built = batch::journeys(black_box(&pending), black_box(&candidates), &jcfg);
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(built.len(), conversions);
    rows.push(Row {
        name: "journey assembly (100k conversions, 500k candidates)".into(),
        value: secs,
        unit: "s",
        target: "< 1".into(),
        ok: secs < 1.0,
    });

    println!(
        "\n{:<55} {:>12}  {:<16} {:>8}  ok",
        "benchmark", "value", "unit", "target"
    );
    for r in &rows {
        println!(
            "{:<55} {:>12.3}  {:<16} {:>8}  {}",
            r.name,
            r.value,
            r.unit,
            r.target,
            if r.ok { "yes" } else { "NO" }
        );
    }
    let json: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{{\"name\":{:?},\"value\":{:.4},\"unit\":{:?},\"target\":{:?},\"ok\":{}}}",
                r.name, r.value, r.unit, r.target, r.ok
            )
        })
        .collect();
    std::fs::create_dir_all("bench").ok();
    std::fs::write("bench/core.json", format!("[{}]\n", json.join(",\n")))
        .expect("write bench/core.json");
    println!("\nwrote bench/core.json");
}
