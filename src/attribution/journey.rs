//! Journeys: the touchpoints of one converting person that attribution sees.
//!
//! A journey is every touchpoint of the person (all linked ids) before the
//! conversion and inside its lookback window:
//! * windows: 30 days by default, configurable per channel; influencer clicks
//!   and codes 60 days;
//! * sorted by time, ties broken by touchpoint key, so the order is
//!   deterministic;
//! * bot clicks are never touchpoints;
//! * repeat clicks of the same link within 30 minutes count as one;
//! * capped at the most recent 50 touchpoints.

use crate::base::time::{Millis, DAY, MINUTE};
use serde::Serialize;
use std::collections::BTreeMap;

/// What produced a touchpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TouchKind {
    /// A click on an influencer link.
    Click,
    /// A promo code on the order (the code's influencer).
    Code,
    /// Another channel, sent to the touchpoints API.
    Channel,
}

/// The channel of influencer clicks and codes.
pub const INFLUENCER_CHANNEL: &str = "influencer";

/// The channels the touchpoints API accepts.
pub const CHANNELS: &[&str] = &[
    "email",
    "paid_search",
    "paid_social",
    "organic_search",
    "referral",
    "direct",
    "affiliate",
    "other",
];

/// One touchpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Touchpoint {
    /// Unique across kinds: `click:{id}`, `code:{id}`, `tp:{id}`.
    pub key: String,
    pub kind: TouchKind,
    pub at: Millis,
    /// `influencer` for clicks and codes, else the channel name.
    pub channel: String,
    pub influencer: Option<String>,
    pub campaign: Option<String>,
    pub link: Option<String>,
    /// The link's `utm_content` and platform (clicks only).
    pub content: Option<String>,
    pub platform: Option<String>,
    pub code: Option<String>,
    pub app: Option<String>,
    pub source: Option<String>,
    pub medium: Option<String>,
    #[serde(skip)]
    pub is_bot: bool,
}

impl Touchpoint {
    /// The key the data-driven model uses for this touchpoint: the
    /// influencer handle for influencer touchpoints, else the channel.
    pub fn channel_key(&self) -> &str {
        match (&self.influencer, self.kind) {
            (Some(h), TouchKind::Click | TouchKind::Code) => h,
            _ => &self.channel,
        }
    }

    fn is_influencer(&self) -> bool {
        matches!(self.kind, TouchKind::Click | TouchKind::Code)
    }
}

/// Journey rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JourneyConfig {
    pub default_window: Millis,
    pub influencer_window: Millis,
    /// Per-channel windows that override the default.
    pub channel_windows: BTreeMap<String, Millis>,
    pub max_touchpoints: usize,
    pub repeat_click_window: Millis,
}

impl Default for JourneyConfig {
    fn default() -> Self {
        JourneyConfig {
            default_window: 30 * DAY,
            influencer_window: 60 * DAY,
            channel_windows: BTreeMap::new(),
            max_touchpoints: 50,
            repeat_click_window: 30 * MINUTE,
        }
    }
}

impl JourneyConfig {
    pub fn window(&self, t: &Touchpoint) -> Millis {
        if t.is_influencer() {
            return self.influencer_window;
        }
        self.channel_windows
            .get(&t.channel)
            .copied()
            .unwrap_or(self.default_window)
    }

    /// The longest window: how far back to load touchpoints.
    pub fn max_window(&self) -> Millis {
        self.channel_windows
            .values()
            .copied()
            .chain([self.default_window, self.influencer_window])
            .max()
            .unwrap_or(self.default_window)
    }
}

/// Builds the journey of a conversion at `converted_at` from all of the
/// person's candidate touchpoints (any order, possibly outside the window).
pub fn assemble(
    converted_at: Millis,
    mut candidates: Vec<Touchpoint>,
    cfg: &JourneyConfig,
) -> Vec<Touchpoint> {
    candidates
        .retain(|t| !t.is_bot && t.at <= converted_at && converted_at - t.at <= cfg.window(t));
    candidates.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.key.cmp(&b.key)));
    // Repeat clicks of one link within the window collapse into the first.
    let mut last_click: BTreeMap<String, Millis> = BTreeMap::new();
    candidates.retain(|t| {
        let (TouchKind::Click, Some(link)) = (t.kind, &t.link) else {
            return true;
        };
        let repeat = last_click
            .get(link)
            .is_some_and(|prev| t.at - prev < cfg.repeat_click_window);
        last_click.insert(link.clone(), t.at);
        !repeat
    });
    let excess = candidates.len().saturating_sub(cfg.max_touchpoints);
    candidates.drain(..excess);
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn click(key: &str, at: Millis, link: &str, influencer: &str) -> Touchpoint {
        Touchpoint {
            key: format!("click:{key}"),
            kind: TouchKind::Click,
            at,
            channel: INFLUENCER_CHANNEL.into(),
            influencer: Some(influencer.into()),
            campaign: None,
            link: Some(link.into()),
            content: None,
            platform: None,
            code: None,
            app: None,
            source: None,
            medium: None,
            is_bot: false,
        }
    }

    fn channel(key: &str, at: Millis, channel: &str) -> Touchpoint {
        Touchpoint {
            key: format!("tp:{key}"),
            kind: TouchKind::Channel,
            channel: channel.into(),
            influencer: None,
            link: None,
            ..click(key, at, "", "")
        }
    }

    fn keys(j: &[Touchpoint]) -> Vec<&str> {
        j.iter().map(|t| t.key.as_str()).collect()
    }

    const T: Millis = 100 * DAY;

    #[test]
    fn sorted_with_ties_broken_by_key() {
        let j = assemble(
            T,
            vec![
                click("b", T - 5, "l", "s"),
                click("a", T - 5, "m", "s"),
                channel("1", T - 9, "email"),
            ],
            &JourneyConfig::default(),
        );
        assert_eq!(keys(&j), vec!["tp:1", "click:a", "click:b"]);
    }

    #[test]
    fn windows_per_kind_and_channel() {
        let mut cfg = JourneyConfig::default();
        cfg.channel_windows.insert("paid_search".into(), 7 * DAY);
        let j = assemble(
            T,
            vec![
                click("old", T - 61 * DAY, "l", "s"),
                click("in", T - 59 * DAY, "l", "s"),
                channel("email-old", T - 31 * DAY, "email"),
                channel("email-in", T - 29 * DAY, "email"),
                channel("ps-old", T - 8 * DAY, "paid_search"),
                channel("ps-in", T - 6 * DAY, "paid_search"),
                channel("after", T + 1, "email"),
            ],
            &cfg,
        );
        assert_eq!(keys(&j), vec!["click:in", "tp:email-in", "tp:ps-in"]);
        assert_eq!(cfg.max_window(), 60 * DAY);
    }

    #[test]
    fn bots_and_repeat_clicks() {
        let mut bot = click("bot", T - 100, "l", "s");
        bot.is_bot = true;
        let j = assemble(
            T,
            vec![
                bot,
                click("1", T - 60 * MINUTE, "l", "s"),
                click("2", T - 45 * MINUTE, "l", "s"),
                click("3", T - 40 * MINUTE, "other", "s"),
                click("4", T - 10 * MINUTE, "l", "s"),
            ],
            &JourneyConfig::default(),
        );
        // 2 is 15 min after 1 (dropped); 4 is 35 min after 2 but only the
        // kept-or-not previous click counts: 4 - 2 = 35 min, kept.
        assert_eq!(keys(&j), vec!["click:1", "click:3", "click:4"]);
    }

    proptest::proptest! {
        /// Every touchpoint of a journey is before the conversion, inside its
        /// window, not a bot, and the journey is sorted and capped.
        #[test]
        fn the_window_is_respected(
            touches in proptest::collection::vec((0i64..200 * DAY, 0usize..4, proptest::bool::ANY), 0..80),
            converted_at in 0i64..200 * DAY,
        ) {
            let channels = ["email", "paid_search", "referral"];
            let candidates: Vec<Touchpoint> = touches
                .iter()
                .enumerate()
                .map(|(i, (at, kind, bot))| {
                    let mut t = if *kind == 3 { click(&i.to_string(), *at, "l", "s") } else { channel(&i.to_string(), *at, channels[*kind]) };
                    t.is_bot = *bot;
                    t
                })
                .collect();
            let cfg = JourneyConfig::default();
            let j = assemble(converted_at, candidates, &cfg);
            proptest::prop_assert!(j.len() <= cfg.max_touchpoints);
            for t in &j {
                proptest::prop_assert!(!t.is_bot);
                proptest::prop_assert!(t.at <= converted_at && converted_at - t.at <= cfg.window(t));
            }
            proptest::prop_assert!(j.windows(2).all(|w| (w[0].at, &w[0].key) <= (w[1].at, &w[1].key)));
        }
    }

    #[test]
    fn capped_at_the_most_recent_50() {
        let many: Vec<Touchpoint> = (0..60)
            .map(|i| channel(&format!("{i:02}"), T - 1000 + i, "email"))
            .collect();
        let j = assemble(T, many, &JourneyConfig::default());
        assert_eq!(j.len(), 50);
        assert_eq!(j[0].key, "tp:10");
        assert_eq!(j[49].key, "tp:59");
    }
}
