//! Calendar dates as the checks need them: ISO `YYYY-MM-DD` from profiles, `YYMMDD` from the
//! MRZ, ages and expiry. Only the proleptic Gregorian calendar; no time zones (a date of birth
//! has none).

use std::fmt;

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// A valid calendar date, or `None`.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let valid = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    /// `YYYY-MM-DD`.
    pub fn parse_iso(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        Date::new(text[0..4].parse().ok()?, text[5..7].parse().ok()?, text[8..10].parse().ok()?)
    }

    /// `YYMMDD` from an MRZ. The century is not written: a date of birth is the latest such
    /// date not after `today`; an expiry date lies within 50 years before or after `today`
    /// (documents are valid for at most ten years, and long-expired ones must still parse).
    pub fn parse_mrz(text: &str, kind: MrzDateKind, today: Date) -> Option<Date> {
        if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let yy: i32 = text[0..2].parse().ok()?;
        let (month, day) = (text[2..4].parse().ok()?, text[4..6].parse().ok()?);
        let century = today.year - today.year % 100;
        let year = match kind {
            MrzDateKind::Birth => {
                let this = Date::new(century + yy, month, day)?;
                if this <= today {
                    century + yy
                } else {
                    century - 100 + yy
                }
            }
            MrzDateKind::Expiry => {
                let year = century + yy;
                if year > today.year + 50 {
                    year - 100
                } else if year < today.year - 50 {
                    year + 100
                } else {
                    year
                }
            }
        };
        Date::new(year, month, day)
    }

    /// Whole years from `self` to `on`: an age on a date.
    pub fn years_until(self, on: Date) -> i32 {
        let mut years = on.year - self.year;
        if (on.month, on.day) < (self.month, self.day) {
            years -= 1;
        }
        years
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date of a day count since 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Today in UTC.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Date::from_days_since_epoch((secs / 86_400) as i64)
    }
}

/// Which MRZ date a `YYMMDD` is, for its century.
#[derive(Debug, Clone, Copy)]
pub enum MrzDateKind {
    Birth,
    Expiry,
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        Date::parse_iso(text).unwrap()
    }

    #[test]
    fn iso_dates_are_checked_against_the_calendar() {
        assert_eq!(d("2024-02-29").to_string(), "2024-02-29");
        assert!(Date::parse_iso("2023-02-29").is_none());
        assert!(Date::parse_iso("2023-13-01").is_none());
        assert!(Date::parse_iso("23-01-01").is_none());
    }

    #[test]
    fn mrz_centuries_follow_the_kind_of_date() {
        let today = d("2026-11-23");
        assert_eq!(Date::parse_mrz("740812", MrzDateKind::Birth, today), Some(d("1974-08-12")));
        assert_eq!(Date::parse_mrz("100101", MrzDateKind::Birth, today), Some(d("2010-01-01")));
        assert_eq!(Date::parse_mrz("261124", MrzDateKind::Birth, today), Some(d("1926-11-24")));
        assert_eq!(Date::parse_mrz("120415", MrzDateKind::Expiry, today), Some(d("2012-04-15")));
        assert_eq!(Date::parse_mrz("340101", MrzDateKind::Expiry, today), Some(d("2034-01-01")));
        assert_eq!(Date::parse_mrz("961210", MrzDateKind::Expiry, today), Some(d("1996-12-10")));
        assert_eq!(Date::parse_mrz("741312", MrzDateKind::Birth, today), None);
    }

    #[test]
    fn ages_and_day_counts() {
        assert_eq!(d("2008-11-24").years_until(d("2026-11-23")), 17);
        assert_eq!(d("2008-11-23").years_until(d("2026-11-23")), 18);
        for text in ["1970-01-01", "1600-03-01", "2000-02-29", "2026-11-23", "1899-12-31"] {
            assert_eq!(Date::from_days_since_epoch(d(text).days_since_epoch()), d(text));
        }
        assert_eq!(d("1970-01-02").days_since_epoch(), 1);
    }
}
