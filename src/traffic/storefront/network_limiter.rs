//! The flood guard of the public event endpoint: a [`NetworkLimiter`]
//! counts events per network and minute in isolate memory.

use crate::base::time::{self, Millis};
use lru::LruCache;
use std::num::NonZeroUsize;

/// How many visitors' worth of events one network may send per minute:
/// the per-network limit is this times `EVENTS_PER_MINUTE`.
pub const NETWORK_FACTOR: u32 = 20;

/// A flood guard for the public event endpoint, kept in isolate memory:
/// at most `per_minute` events per network (the IP prefix, /24 or /48) in
/// each fixed minute. The per-visitor limit (in D1, across isolates) can be
/// dodged by inventing visitor ids; this cannot, within an isolate. Nothing
/// of it is stored, and a full table drops the network it heard from least
/// recently (a guard, not a ledger).
#[derive(Debug)]
pub struct NetworkLimiter {
    /// Network → (its minute, the events counted in it).
    windows: LruCache<String, (i64, u32)>,
    per_minute: u32,
}

impl NetworkLimiter {
    /// At most `capacity` networks (at least one), allocated as they come.
    pub fn new(per_minute: u32, capacity: usize) -> NetworkLimiter {
        NetworkLimiter {
            windows: LruCache::sparse(NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN)),
            per_minute,
        }
    }

    /// Counts one event of `network` at `now`; `false` when the network is
    /// over its limit for this minute (the event is not counted).
    pub fn allow(&mut self, network: &str, now: Millis) -> bool {
        let minute = now.div_euclid(time::MINUTE);
        let entry = self.windows.get_or_insert_mut_ref(network, || (minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        if entry.1 >= self.per_minute {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_limiter_counts_per_network_and_minute() {
        let mut l = NetworkLimiter::new(3, 2);
        let t = 10 * time::MINUTE;
        assert!((0..3).all(|_| l.allow("203.0.113", t)));
        assert!(
            !l.allow("203.0.113", t + 59_999),
            "the fourth in the minute"
        );
        assert!(l.allow("198.51.100", t), "another network");
        assert!(l.allow("203.0.113", t + time::MINUTE), "the next minute");
        // A full table drops the network heard from least recently.
        assert!(l.allow("192.0.2", t + time::MINUTE));
        assert!(l.allow("2001:db8:1", t + 2 * time::MINUTE));
        assert!(l.windows.len() <= 2);
    }
}
