//! Timestamps: integer milliseconds since the Unix epoch, UTC.
//!
//! The core never reads the clock; the shell passes `now_ms` in. This module
//! converts to and from RFC 3339 without a date-time crate (the civil-date
//! conversions are Howard Hinnant's `days_from_civil` algorithms), which
//! keeps the wasm small.

use crate::base::error::ParseError;

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type Millis = i64;

pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

/// Days since the epoch of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let d = i64::from(d);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day number since the epoch.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Formats as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_rfc3339(ms: Millis) -> String {
    let days = ms.div_euclid(DAY);
    let rem = ms.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / HOUR,
        rem % HOUR / MINUTE,
        rem % MINUTE / SECOND,
        rem % SECOND
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
    let offset_min = match b.get(i) {
        Some(b'Z' | b'z') if b.len() == i + 1 => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 => {
            sep(i + 3, b":")?;
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            if oh > 23 || om > 59 {
                return Err(invalid());
            }
            let total = oh * 60 + om;
            if *sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return Err(invalid()),
    };
    let month_u = u32::try_from(month).map_err(|_| invalid())?;
    if !(1..=12).contains(&month_u) || day < 1 || day > i64::from(days_in_month(year, month_u)) {
        return Err(invalid());
    }
    // 60 is accepted for a leap second and folded into the next second.
    if hour > 23 || minute > 59 || second > 60 {
        return Err(invalid());
    }
    let days = days_from_civil(year, month_u, day as u32);
    Ok(days * DAY + hour * HOUR + minute * MINUTE + second * SECOND + millis - offset_min * MINUTE)
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
    let m = u32::try_from(m).map_err(|_| invalid())?;
    if !(1..=12).contains(&m) || d < 1 || d > i64::from(days_in_month(y, m)) {
        return Err(invalid());
    }
    Ok(days_from_civil(y, m, d as u32))
}

/// `YYYY-MM-DD` of a day number.
pub fn format_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The day number of a timestamp.
pub fn day_of(ms: Millis) -> i64 {
    ms.div_euclid(DAY)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
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
