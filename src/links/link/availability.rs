//! Whether a visit of a link is redirected: live, disabled, not started yet
//! or expired (by time or by clicks), and the miss reason recorded when it
//! is not.

use super::cached::CachedLink;
use super::limits::LinkStatus;
use crate::base::time::Millis;

/// What a visit of a link gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Live,
    /// 404, like an unknown slug.
    Disabled,
    /// 404 until `starts_at`.
    NotStarted,
    /// `expired_url`, or 410 Gone.
    Expired(ExpiredBy),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiredBy {
    Time,
    Clicks,
}

impl Availability {
    /// The `link_misses.reason` of a visit that was not redirected.
    pub fn miss_reason(self) -> Option<&'static str> {
        match self {
            Availability::Live => None,
            Availability::Disabled => Some("disabled"),
            Availability::NotStarted => Some("not_started"),
            Availability::Expired(ExpiredBy::Time) => Some("expired"),
            Availability::Expired(ExpiredBy::Clicks) => Some("click_limit"),
        }
    }
}

impl CachedLink {
    /// Whether the link redirects at `now`, given the human clicks it has
    /// recorded (`clicks`, needed only when it sets `max_clicks`).
    pub fn availability(&self, now: Millis, clicks: Option<u64>) -> Availability {
        let l = &self.limits;
        if self.status == LinkStatus::Disabled {
            Availability::Disabled
        } else if l.starts_at.is_some_and(|t| now < t) {
            Availability::NotStarted
        } else if l.expires_at.is_some_and(|t| now >= t) {
            Availability::Expired(ExpiredBy::Time)
        } else if l
            .max_clicks
            .is_some_and(|max| clicks.is_some_and(|n| n >= u64::from(max)))
        {
            Availability::Expired(ExpiredBy::Clicks)
        } else {
            Availability::Live
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links::discount::{StoreDefaults, Target};
    use crate::links::link::limits::Limits;

    #[test]
    fn availability_follows_status_window_and_click_limit() {
        let cached = |status, limits| CachedLink {
            id: 1,
            status,
            limits,
            target: Target {
                inner: "https://s.example/?utm_source=a".into(),
                shopify_code: None,
            },
            code: None,
            escape_in_app: false,
            destination: "https://s.example/".into(),
            store: StoreDefaults::default().signature(),
            rules: Vec::new(),
            variants: Vec::new(),
            targets: Vec::new(),
            domain: None,
        };
        let window = Limits {
            starts_at: Some(100),
            expires_at: Some(1_000),
            max_clicks: Some(3),
            expired_url: None,
        };
        let check = |status, limits: &Limits, now, clicks, expected| {
            assert_eq!(
                cached(status, limits.clone()).availability(now, clicks),
                expected,
                "{status:?} {limits:?} at {now} with {clicks:?} clicks"
            )
        };
        use Availability::*;
        check(LinkStatus::Active, &Limits::default(), i64::MAX, None, Live);
        check(LinkStatus::Disabled, &Limits::default(), 0, None, Disabled);
        check(LinkStatus::Disabled, &window, 500, Some(0), Disabled);
        check(LinkStatus::Active, &window, 99, Some(0), NotStarted);
        check(LinkStatus::Active, &window, 100, Some(2), Live);
        check(
            LinkStatus::Active,
            &window,
            999,
            Some(3),
            Expired(ExpiredBy::Clicks),
        );
        check(
            LinkStatus::Active,
            &window,
            1_000,
            Some(0),
            Expired(ExpiredBy::Time),
        );
        assert!(cached(LinkStatus::Active, window.clone()).is_current(&StoreDefaults::default()));
        assert_eq!(
            Expired(ExpiredBy::Clicks).miss_reason(),
            Some("click_limit")
        );
        assert_eq!(Live.miss_reason(), None);
    }
}
