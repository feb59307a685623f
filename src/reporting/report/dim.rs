//! Report dimensions: what a report can be grouped by, which of them split
//! costs or are attributes of the link, and the day buckets of the time
//! dimensions.

use crate::base::time;

/// A report dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dim {
    Influencer,
    Campaign,
    Content,
    Platform,
    Link,
    App,
    Code,
    Channel,
    /// `link` or `qr`: how the credited click arrived.
    Trigger,
    /// The targeting rule that chose the click's destination.
    Rule,
    /// The A/B variant the click was given.
    Variant,
    /// The link's tags, as they are now: a link counts once under each of
    /// its tags, so rows may overlap (totals do not).
    Tag,
    /// The influencer's tier (from its follower count, as it is now).
    Tier,
    /// The link's content format (story, reel, ...).
    Format,
    /// The link's product category.
    ProductCategory,
    /// The Monday of the week the link's content was posted.
    PostedWeek,
    Day,
    Week,
    Month,
}

impl Dim {
    pub const ALL: [Dim; 19] = [
        Dim::Influencer,
        Dim::Campaign,
        Dim::Content,
        Dim::Platform,
        Dim::Link,
        Dim::App,
        Dim::Code,
        Dim::Channel,
        Dim::Trigger,
        Dim::Rule,
        Dim::Variant,
        Dim::Tag,
        Dim::Tier,
        Dim::Format,
        Dim::ProductCategory,
        Dim::PostedWeek,
        Dim::Day,
        Dim::Week,
        Dim::Month,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dim::Influencer => "influencer",
            Dim::Campaign => "campaign",
            Dim::Content => "content",
            Dim::Platform => "platform",
            Dim::Link => "link",
            Dim::App => "app",
            Dim::Code => "code",
            Dim::Channel => "channel",
            Dim::Trigger => "trigger",
            Dim::Rule => "rule",
            Dim::Variant => "variant",
            Dim::Tag => "tag",
            Dim::Tier => "tier",
            Dim::Format => "format",
            Dim::ProductCategory => "product_category",
            Dim::PostedWeek => "posted_week",
            Dim::Day => "day",
            Dim::Week => "week",
            Dim::Month => "month",
        }
    }

    pub fn parse(s: &str) -> Option<Dim> {
        Dim::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// Whether costs (booked per influencer and campaign, on a date) can be
    /// broken down by this dimension.
    pub fn splits_costs(self) -> bool {
        matches!(
            self,
            Dim::Influencer | Dim::Campaign | Dim::Channel | Dim::Day | Dim::Week | Dim::Month
        )
    }

    /// Whether the dimension is a property of the link or influencer as it
    /// is now (read by joining the fine rollups), not of the click.
    pub fn is_attribute(self) -> bool {
        matches!(
            self,
            Dim::Tag | Dim::Tier | Dim::Format | Dim::ProductCategory | Dim::PostedWeek
        )
    }

    /// Whether the report's own time axis buckets this dimension.
    pub fn is_time(self) -> bool {
        matches!(self, Dim::Day | Dim::Week | Dim::Month)
    }

    /// The day-bucket label of a day number, for the time dimensions.
    pub fn bucket(self, day: i64) -> Option<String> {
        match self {
            Dim::Day => Some(time::format_date(day)),
            // ISO weeks start on Monday; 1970-01-01 was a Thursday.
            Dim::Week | Dim::PostedWeek => Some(time::format_date(day - (day + 3).rem_euclid(7))),
            Dim::Month => Some(time::format_date(day)[..7].to_owned()),
            _ => None,
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The reference day of the report tests (also used by the other
    /// report modules' tests).
    pub(in crate::reporting::report) const TODAY: i64 = 20_786; // 2026-11-29

    #[test]
    fn buckets() {
        assert_eq!(
            Dim::Week.bucket(TODAY),
            Some("2026-11-23".into()),
            "the Monday"
        );
        assert_eq!(Dim::Week.bucket(TODAY - 6), Some("2026-11-23".into()));
        assert_eq!(Dim::Month.bucket(TODAY), Some("2026-11".into()));
        assert_eq!(Dim::Day.bucket(0), Some("1970-01-01".into()));
    }
}
