//! Timestamps: integer milliseconds since the Unix epoch, UTC.
//!
//! The core never reads the clock; the shell passes `now_ms` in. Calendar
//! dates and the epoch conversions are the `time` crate's (with
//! `large-dates`: years -999,999 to 999,999, which covers every timestamp
//! an offset can push past a four-digit year). The RFC 3339 grammar is read
//! here: `time`'s own RFC 3339 parser takes no space for the `T`, refuses a
//! leap second other than 23:59:60 UTC at a month's end and takes more than
//! nine fraction digits, all of which this module has always done
//! otherwise.

use crate::base::error::ParseError;
use ::time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type Millis = i64;

pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

/// The Julian day number of 1970-01-01 (day 0 here).
const EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// The date of a day number since the epoch, saturating at `time`'s range.
fn date_of_day(day: i64) -> Date {
    let (min, max) = (Date::MIN.to_julian_day(), Date::MAX.to_julian_day());
    let jd = day
        .saturating_add(EPOCH_JULIAN_DAY)
        .clamp(i64::from(min), i64::from(max));
    Date::from_julian_day(jd as i32).unwrap_or(Date::MIN)
}

/// The day number since the epoch of a date.
fn day_number(date: Date) -> i64 {
    i64::from(date.to_julian_day()) - EPOCH_JULIAN_DAY
}

/// A valid calendar date, or `None`.
fn calendar_date(y: i64, m: i64, d: i64) -> Option<Date> {
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()
}

/// Days since the epoch of a proleptic Gregorian date (`m` in 1..=12; a
/// day past the month's end counts on into the next month).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let year = y.clamp(i64::from(Date::MIN.year()), i64::from(Date::MAX.year())) as i32;
    let month = Month::December.nth_next(m.clamp(1, 12) as u8);
    let first = Date::from_calendar_date(year, month, 1).unwrap_or(Date::MIN);
    day_number(first) + i64::from(d) - 1
}

/// The proleptic Gregorian date of a day number since the epoch.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let date = date_of_day(z);
    (
        i64::from(date.year()),
        u32::from(u8::from(date.month())),
        u32::from(date.day()),
    )
}

/// Formats as `YYYY-MM-DDTHH:MM:SS.mmmZ` (saturating at `time`'s range,
/// which no timestamp the API takes reaches).
pub fn format_rfc3339(ms: Millis) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(
        if ms < 0 {
            PrimitiveDateTime::MIN
        } else {
            PrimitiveDateTime::MAX
        }
        .assume_utc(),
    );
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn invalid() -> ParseError {
    ParseError::new(
        "invalid_timestamp",
        "expected an RFC 3339 timestamp such as 2026-11-29T08:00:00Z",
    )
}

/// Parses an RFC 3339 timestamp (`Z` or `±hh:mm` offset, optional fraction,
/// which is truncated to milliseconds).
pub fn parse_rfc3339(s: &str) -> Result<Millis, ParseError> {
    let b = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<i64, ParseError> {
        let part = b.get(r).ok_or_else(invalid)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return Err(invalid());
        }
        Ok(part
            .iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
    };
    let sep = |i: usize, allowed: &[u8]| -> Result<(), ParseError> {
        match b.get(i) {
            Some(c) if allowed.contains(c) => Ok(()),
            _ => Err(invalid()),
        }
    };
    let year = num(0..4)?;
    sep(4, b"-")?;
    let month = num(5..7)?;
    sep(7, b"-")?;
    let day = num(8..10)?;
    sep(10, b"Tt ")?;
    let hour = num(11..13)?;
    sep(13, b":")?;
    let minute = num(14..16)?;
    sep(16, b":")?;
    let second = num(17..19)?;
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut end = start;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        if end == start || end - start > 9 {
            return Err(invalid());
        }
        let digits = &b[start..end.min(start + 3)];
        millis = digits
            .iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'));
        millis *= 10i64.pow(3 - digits.len() as u32);
        i = end;
    }
    let (oh, om) = match b.get(i) {
        Some(b'Z' | b'z') if b.len() == i + 1 => (0, 0),
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 => {
            sep(i + 3, b":")?;
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if oh > 23 || om > 59 {
                return Err(invalid());
            }
            if *sign == b'-' {
                (-oh, -om)
            } else {
                (oh, om)
            }
        }
        _ => return Err(invalid()),
    };
    let date = calendar_date(year, month, day).ok_or_else(invalid)?;
    // 60 is accepted for a leap second and folded into the next second.
    let leap = second == 60;
    let small = |n: i64| u8::try_from(n).map_err(|_| invalid());
    let time = Time::from_hms_milli(
        small(hour)?,
        small(minute)?,
        if leap { 59 } else { small(second)? },
        millis as u16,
    )
    .map_err(|_| invalid())?;
    let offset = UtcOffset::from_hms(oh as i8, om as i8, 0).map_err(|_| invalid())?;
    let at = PrimitiveDateTime::new(date, time).assume_offset(offset);
    Ok((at.unix_timestamp_nanos() / 1_000_000) as Millis + if leap { SECOND } else { 0 })
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Result<i64, ParseError> {
    let invalid = || ParseError::new("invalid_date", "expected a date such as 2026-11-29");
    let b = s.trim().as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(invalid());
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64, ParseError> {
        let part = &b[r];
        if !part.iter().all(u8::is_ascii_digit) {
            return Err(invalid());
        }
        Ok(part
            .iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    calendar_date(y, m, d).map(day_number).ok_or_else(invalid)
}

/// `YYYY-MM-DD` of a day number.
pub fn format_date(day: i64) -> String {
    let date = date_of_day(day);
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The day number of a timestamp.
pub fn day_of(ms: Millis) -> i64 {
    ms.div_euclid(DAY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(input: &str, expected: Option<Millis>) {
        assert_eq!(parse_rfc3339(input).ok(), expected, "input {input:?}");
    }

    #[test]
    fn parse_table() {
        check("1970-01-01T00:00:00Z", Some(0));
        check("2026-11-29T08:00:00Z", Some(1_795_939_200_000));
        check("2026-11-29T08:00:00.123Z", Some(1_795_939_200_123));
        check("2026-11-29T08:00:00.123456789Z", Some(1_795_939_200_123));
        check("2026-11-29T08:00:00.5Z", Some(1_795_939_200_500));
        check("2026-11-29T09:30:00+01:30", Some(1_795_939_200_000));
        check("2026-11-29T03:00:00-05:00", Some(1_795_939_200_000));
        check("2026-11-29 08:00:00z", Some(1_795_939_200_000));
        check("2024-02-29T00:00:00Z", Some(1_709_164_800_000));
        check("2023-02-29T00:00:00Z", None);
        check("2026-13-01T00:00:00Z", None);
        check("2026-11-29T24:00:00Z", None);
        check("2026-11-29T08:00:00", None);
        check("2026-11-29", None);
        check("2026-11-29T08:00:00.Z", None);
        check("2026-11-29T08:00:00+0100", None);
        check("tomorrow", None);
        check("", None);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Ok(0));
        assert_eq!(parse_date("2026-11-29"), Ok(20_786));
        assert_eq!(format_date(20_786), "2026-11-29");
        assert_eq!(day_of(1_795_939_200_000), 20_786);
        assert_eq!(day_of(-1), -1);
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "26-11-29",
            "2026/11/29",
            "tomorrow",
        ] {
            assert_eq!(parse_date(bad).unwrap_err().code, "invalid_date", "{bad}");
        }
    }

    #[test]
    fn format_table() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_rfc3339(1_795_939_200_123),
            "2026-11-29T08:00:00.123Z"
        );
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(ms in -62_135_596_800_000i64..253_402_300_799_999) {
            prop_assert_eq!(parse_rfc3339(&format_rfc3339(ms)), Ok(ms));
        }
    }
}
