//! The data-driven model's global table: Markov-chain removal effects.
//!
//! States are START, one per channel key, CONVERSION and NULL (order 1).
//! Every path — converting journeys and non-converting click journeys of
//! the period — adds its transitions: START → k₁ → … → kₙ → CONVERSION or
//! NULL. From the counts, P(conv) is the probability of reaching CONVERSION
//! from START; removing channel c turns c into NULL, and its removal effect
//! is RE_c = 1 − P(conv without c) / P(conv).

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

const START: u32 = 0;
const CONV: u32 = 1;
const NULL: u32 = 2;
const FIRST_CHANNEL: u32 = 3;

/// A fast hasher for the packed `(from, to)` state pairs.
#[derive(Default)]
struct PairHasher(u64);

impl Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    }
}

type PairMap = HashMap<u64, u64, BuildHasherDefault<PairHasher>>;

/// How a path ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Conversion,
    Null,
}

/// Transition counts over channel keys.
#[derive(Debug, Default, Clone)]
pub struct Transitions {
    index: HashMap<String, u32>,
    names: Vec<String>,
    counts: PairMap,
}

/// The removal effect of every channel key, and P(conv).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemovalEffects {
    pub p_conversion: f64,
    pub effects: BTreeMap<String, f64>,
}

impl RemovalEffects {
    /// A channel's removal effect; 0 for channels the table does not know.
    pub fn get(&self, key: &str) -> f64 {
        self.effects.get(key).copied().unwrap_or(0.0)
    }
}

impl Transitions {
    fn state(&mut self, key: &str) -> u32 {
        if let Some(s) = self.index.get(key) {
            return *s;
        }
        let s = FIRST_CHANNEL + self.names.len() as u32;
        self.index.insert(key.to_owned(), s);
        self.names.push(key.to_owned());
        s
    }

    fn bump(&mut self, from: u32, to: u32, n: u64) {
        *self
            .counts
            .entry((u64::from(from) << 32) | u64::from(to))
            .or_insert(0) += n;
    }

    /// Adds one path of channel keys. An empty path adds nothing.
    pub fn add_path<S: AsRef<str>>(&mut self, keys: &[S], end: End) {
        if keys.is_empty() {
            return;
        }
        let mut prev = START;
        for k in keys {
            let s = self.state(k.as_ref());
            self.bump(prev, s, 1);
            prev = s;
        }
        self.bump(prev, if end == End::Conversion { CONV } else { NULL }, 1);
    }

    /// Adds `n` transitions at once (from pre-aggregated counts). `from`
    /// `None` is START; `to` `None` is the path's end.
    pub fn add_transition(&mut self, from: Option<&str>, to: Result<&str, End>, n: u64) {
        let f = from.map_or(START, |k| self.state(k));
        let t = match to {
            Ok(k) => self.state(k),
            Err(End::Conversion) => CONV,
            Err(End::Null) => NULL,
        };
        self.bump(f, t, n);
    }

    pub fn channels(&self) -> &[String] {
        &self.names
    }

    /// P(conv) and every channel's removal effect.
    pub fn removal_effects(&self) -> RemovalEffects {
        let n = FIRST_CHANNEL as usize + self.names.len();
        // Outgoing transition probabilities per state, in a stable order.
        let mut out: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
        let mut totals = vec![0u64; n];
        let mut pairs: Vec<(u64, u64)> = self.counts.iter().map(|(k, v)| (*k, *v)).collect();
        pairs.sort();
        for (k, c) in &pairs {
            totals[(k >> 32) as usize] += c;
        }
        for (k, c) in pairs {
            let from = (k >> 32) as usize;
            out[from].push(((k & 0xffff_ffff) as u32, c as f64 / totals[from] as f64));
        }
        let p = absorption(&out, None);
        let mut effects = BTreeMap::new();
        for (i, name) in self.names.iter().enumerate() {
            let removed = FIRST_CHANNEL + i as u32;
            let re = if p > 0.0 {
                (1.0 - absorption(&out, Some(removed)) / p).clamp(0.0, 1.0)
            } else {
                0.0
            };
            effects.insert(name.clone(), re);
        }
        RemovalEffects {
            p_conversion: p,
            effects,
        }
    }
}

/// P(reach CONV from START), with `removed` acting as NULL. Gauss–Seidel
/// from below: monotone, and exact for the acyclic part in one sweep.
fn absorption(out: &[Vec<(u32, f64)>], removed: Option<u32>) -> f64 {
    let n = out.len();
    let mut x = vec![0.0f64; n];
    x[CONV as usize] = 1.0;
    // Sweep channels in reverse creation order first, then START.
    for _ in 0..100_000 {
        let mut delta: f64 = 0.0;
        for s in (FIRST_CHANNEL as usize..n).rev().chain([START as usize]) {
            if Some(s as u32) == removed {
                continue;
            }
            let v: f64 = out[s]
                .iter()
                .map(|(t, p)| {
                    if Some(*t) == removed {
                        0.0
                    } else {
                        p * x[*t as usize]
                    }
                })
                .sum();
            delta = delta.max((v - x[s]).abs());
            x[s] = v;
        }
        if delta < 1e-14 {
            break;
        }
    }
    x[START as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// Paths: ABC→conv, A→null, BC→conv, C→null, AC→conv. By hand:
    /// x_C = 3/4, x_B = 3/4, x_A = 1/3·x_B + 1/3·0 + 1/3·x_C = 1/2,
    /// P = 3/5·1/2 + 1/5·3/4 + 1/5·3/4 = 0.6. Without A: 0.3 (RE 0.5);
    /// without B: x_A = 1/4, P = 0.3 (RE 0.5); without C: 0 (RE 1).
    #[test]
    fn worked_example() {
        let mut t = Transitions::default();
        t.add_path(&["A", "B", "C"], End::Conversion);
        t.add_path(&["A"], End::Null);
        t.add_path(&["B", "C"], End::Conversion);
        t.add_path(&["C"], End::Null);
        t.add_path(&["A", "C"], End::Conversion);
        let re = t.removal_effects();
        assert!(close(re.p_conversion, 0.6), "{re:?}");
        assert!(
            close(re.get("A"), 0.5) && close(re.get("B"), 0.5) && close(re.get("C"), 1.0),
            "{re:?}"
        );
        assert_eq!(re.get("unknown"), 0.0);
    }

    #[test]
    fn loops_converge() {
        // A repeats itself: A→A half the time. x_A = 0.5·x_A + 0.25 → 0.5.
        let mut t = Transitions::default();
        t.add_transition(None, Ok("A"), 4);
        t.add_transition(Some("A"), Ok("A"), 4);
        t.add_transition(Some("A"), Err(End::Conversion), 2);
        t.add_transition(Some("A"), Err(End::Null), 2);
        let re = t.removal_effects();
        assert!(close(re.p_conversion, 0.5), "{re:?}");
        assert!(close(re.get("A"), 1.0));
    }

    #[test]
    fn no_conversions_means_no_effects() {
        let mut t = Transitions::default();
        t.add_path(&["A", "B"], End::Null);
        let re = t.removal_effects();
        assert_eq!((re.p_conversion, re.get("A")), (0.0, 0.0));
    }
}
