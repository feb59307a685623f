//! Retries of failed deliveries: the [`RetryPolicy`] (exponential back-off,
//! capped at [`MAX_DELAY_MS`], given up after a while) and the [`outcome`]
//! of one attempt (delivered, retried at a time, or dead).

use crate::base::time::{Millis, HOUR};

/// The longest wait between two attempts: 6 hours.
pub const MAX_DELAY_MS: Millis = 6 * HOUR;

/// Most entries [`RetryPolicy::schedule`] lists (a policy that gives up only
/// after years would otherwise list millions).
const MAX_SCHEDULE: usize = 1000;

/// When failed deliveries are tried again. The wait after the n-th failed
/// attempt is `base_ms · 2^(n−1)`, at most [`MAX_DELAY_MS`]; an attempt is
/// made only if it is due no later than `give_up_after_ms` after the event
/// was created (an attempt due exactly then is still made).
///
/// With the defaults (1 minute, 24 hours) a delivery that always fails is
/// attempted 12 times, at 0, 1, 3, 7, 15, 31, 63, 127, 255, 511 minutes
/// (4 h 16 min: the last doubling wait, 256 minutes, is under 6 h), then
/// 6 hours apart at 871 and 1231 minutes (20 h 31 min); the next, at 1591
/// minutes, would be past 24 h, so the delivery is dead after the 12th
/// failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure (values below 1 count as 1).
    pub base_ms: Millis,
    /// How long after creation attempts may still be made.
    pub give_up_after_ms: Millis,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base_ms: 60_000,
            give_up_after_ms: 86_400_000,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `failures`-th failed attempt (0 for none):
    /// `base_ms · 2^(failures−1)`, capped at [`MAX_DELAY_MS`], without
    /// overflow for any `failures`.
    pub fn delay(&self, failures: u32) -> Millis {
        let Some(shift) = failures.checked_sub(1) else {
            return 0;
        };
        let base = self.base_ms.max(1);
        if shift >= 62 {
            return MAX_DELAY_MS;
        }
        base.checked_mul(1i64 << shift)
            .map_or(MAX_DELAY_MS, |d| d.min(MAX_DELAY_MS))
    }

    /// When to make the next attempt of a delivery created at `created_at`
    /// whose `attempts` attempts so far all failed, the last one ending at
    /// `now`: `now + delay(attempts)`. `None` (dead letter) when that is
    /// later than `created_at + give_up_after_ms`. With `attempts == 0` the
    /// first attempt is due at `now`.
    pub fn next_attempt(&self, created_at: Millis, attempts: u32, now: Millis) -> Option<Millis> {
        let next = now.saturating_add(self.delay(attempts));
        let deadline = created_at.saturating_add(self.give_up_after_ms);
        (next <= deadline).then_some(next)
    }

    /// The offsets from creation of every attempt of a delivery that always
    /// fails, each made exactly when due; the first is at 0 (and always
    /// listed). At most 1000 entries.
    pub fn schedule(&self) -> Vec<Millis> {
        let mut out = vec![0];
        let mut failures = 1u32;
        while out.len() < MAX_SCHEDULE {
            let last = out[out.len() - 1];
            match self.next_attempt(0, failures, last) {
                Some(t) => out.push(t),
                None => break,
            }
            failures += 1;
        }
        out
    }
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The endpoint answered 2xx: done.
    Delivered,
    /// Try again at the returned time.
    Retry,
    /// Give up: the retry window is over, or the endpoint answered 410.
    Dead,
}

/// Classifies an attempt. `status` is the endpoint's HTTP status, `None`
/// for a network error or a timeout; `attempts` counts the attempts made so
/// far, this one included. 2xx is [`Outcome::Delivered`]. 410 Gone is
/// [`Outcome::Dead`] at once: the receiver says the endpoint is gone for
/// good, so retrying for a day would only load it (the shell may also
/// disable the endpoint). Anything else (including 3xx: redirects are not
/// followed) is [`Outcome::Retry`] with the time of the next attempt from
/// [`RetryPolicy::next_attempt`], or [`Outcome::Dead`] when there is none.
pub fn outcome(
    policy: &RetryPolicy,
    status: Option<u16>,
    created_at: Millis,
    attempts: u32,
    now: Millis,
) -> (Outcome, Option<Millis>) {
    match status {
        Some(200..=299) => (Outcome::Delivered, None),
        Some(410) => (Outcome::Dead, None),
        _ => match policy.next_attempt(created_at, attempts, now) {
            Some(t) => (Outcome::Retry, Some(t)),
            None => (Outcome::Dead, None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::time::MINUTE;

    #[test]
    fn default_schedule() {
        let p = RetryPolicy::default();
        assert_eq!(
            p,
            RetryPolicy {
                base_ms: 60_000,
                give_up_after_ms: 86_400_000
            }
        );
        let minutes: Vec<i64> = p.schedule().iter().map(|t| t / MINUTE).collect();
        assert_eq!(
            minutes,
            vec![0, 1, 3, 7, 15, 31, 63, 127, 255, 511, 871, 1231]
        );
        assert!(p.schedule().iter().all(|t| t % MINUTE == 0));
        assert!(*p.schedule().last().unwrap() <= 24 * HOUR);
        // after the 12th failure (at 1231 min) the next would be at 1591 min
        assert_eq!(p.next_attempt(0, 12, 1231 * MINUTE), None);
        assert_eq!(p.next_attempt(0, 11, 871 * MINUTE), Some(1231 * MINUTE));
    }

    #[test]
    fn small_schedule_deadline_is_inclusive() {
        let p = RetryPolicy {
            base_ms: 200,
            give_up_after_ms: 3000,
        };
        // 1400 + 1600 = 3000 is not later than the deadline: attempted.
        assert_eq!(p.schedule(), vec![0, 200, 600, 1400, 3000]);
        let p = RetryPolicy {
            give_up_after_ms: 2999,
            ..p
        };
        assert_eq!(p.schedule(), vec![0, 200, 600, 1400]);
    }

    #[test]
    fn delays_double_cap_and_do_not_overflow() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(0), 0);
        assert_eq!(p.delay(1), MINUTE);
        assert_eq!(p.delay(2), 2 * MINUTE);
        assert_eq!(p.delay(9), 256 * MINUTE);
        assert_eq!(p.delay(10), MAX_DELAY_MS);
        for n in [62, 63, 64, 100, u32::MAX] {
            assert_eq!(p.delay(n), MAX_DELAY_MS, "{n}");
        }
        let huge = RetryPolicy {
            base_ms: i64::MAX,
            give_up_after_ms: i64::MAX,
        };
        assert_eq!(huge.delay(2), MAX_DELAY_MS);
        assert_eq!(
            huge.next_attempt(i64::MAX - 10, 5, i64::MAX - 5),
            Some(i64::MAX)
        );
        assert_eq!(huge.schedule().len(), 1000);
        let zero = RetryPolicy {
            base_ms: 0,
            give_up_after_ms: 10,
        };
        assert_eq!(zero.schedule(), vec![0, 1, 3, 7]);
    }

    #[test]
    fn next_attempt_is_relative_to_now_and_bounded_by_creation() {
        let p = RetryPolicy::default();
        let created = 1_000_000;
        // a late attempt (the queue was slow) waits from when it ended
        assert_eq!(
            p.next_attempt(created, 1, created + 10 * MINUTE),
            Some(created + 11 * MINUTE)
        );
        assert_eq!(p.next_attempt(created, 0, created), Some(created));
        assert_eq!(
            p.next_attempt(created, 3, created + 24 * HOUR - 4 * MINUTE),
            Some(created + 24 * HOUR)
        );
        assert_eq!(
            p.next_attempt(created, 3, created + 24 * HOUR - 4 * MINUTE + 1),
            None
        );
    }

    #[test]
    fn outcomes() {
        let p = RetryPolicy::default();
        let c = 5_000_000;
        let check = |status, attempts, now, expected: (Outcome, Option<Millis>)| {
            assert_eq!(
                outcome(&p, status, c, attempts, now),
                expected,
                "{status:?} {attempts}"
            );
        };
        check(Some(200), 1, c, (Outcome::Delivered, None));
        check(Some(204), 7, c, (Outcome::Delivered, None));
        check(Some(299), 1, c, (Outcome::Delivered, None));
        check(Some(410), 1, c, (Outcome::Dead, None));
        check(Some(500), 1, c, (Outcome::Retry, Some(c + MINUTE)));
        check(
            Some(429),
            2,
            c + MINUTE,
            (Outcome::Retry, Some(c + 3 * MINUTE)),
        );
        check(Some(301), 1, c, (Outcome::Retry, Some(c + MINUTE)));
        check(Some(199), 1, c, (Outcome::Retry, Some(c + MINUTE)));
        check(Some(404), 1, c, (Outcome::Retry, Some(c + MINUTE)));
        check(None, 1, c, (Outcome::Retry, Some(c + MINUTE)));
        check(None, 12, c + 1231 * MINUTE, (Outcome::Dead, None));
        check(Some(503), 12, c + 1231 * MINUTE, (Outcome::Dead, None));
        check(Some(200), 12, c + 1231 * MINUTE, (Outcome::Delivered, None));
    }
}
