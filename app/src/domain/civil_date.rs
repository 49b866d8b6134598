//! `CivilDate`: a calendar date typed as `YYYY-MM-DD` (UTC), counted in days since
//! 1970-01-01 so that "at most a year ahead" is a subtraction. Written out here (Howard
//! Hinnant's days-from-civil) because the browser side has no date library.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CivilDate {
    /// Days since 1970-01-01.
    days: i64,
}

impl CivilDate {
    pub fn from_days(days: i64) -> Self {
        Self { days }
    }

    /// The date of a Unix time (seconds), in UTC.
    pub fn of_unix(seconds: i64) -> Self {
        Self {
            days: seconds.div_euclid(86_400),
        }
    }

    pub fn days(self) -> i64 {
        self.days
    }

    /// The Unix time at which this day starts (00:00 UTC).
    pub fn start_unix(self) -> i64 {
        self.days * 86_400
    }

    pub fn plus_days(self, days: i64) -> Self {
        Self {
            days: self.days + days,
        }
    }

    /// Accepts exactly `YYYY-MM-DD` of a real date (what `<input type="date">` sends).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let message = || "Enter a date as YYYY-MM-DD.".to_string();
        let raw = raw.trim();
        let bytes = raw.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(message());
        }
        let number = |part: &str| -> Result<i64, String> {
            if part.chars().all(|c| c.is_ascii_digit()) {
                part.parse().map_err(|_| message())
            } else {
                Err(message())
            }
        };
        let (year, month, day) = (
            number(&raw[0..4])?,
            number(&raw[5..7])?,
            number(&raw[8..10])?,
        );
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return Err(format!("{raw} is not a date."));
        }
        Ok(Self {
            days: days_from_civil(year, month, day),
        })
    }
}

impl std::fmt::Display for CivilDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = civil_from_days(self.days);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates_round_trip() {
        assert_eq!(CivilDate::parse("1970-01-01").unwrap().days(), 0);
        assert_eq!(CivilDate::parse("2000-03-01").unwrap().days(), 11_017);
        for raw in ["2024-02-29", "2027-01-31", "1999-12-31", "2100-02-28"] {
            assert_eq!(CivilDate::parse(raw).unwrap().to_string(), raw);
        }
        assert_eq!(CivilDate::of_unix(1_795_000_000).to_string(), "2026-11-18");
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        for bad in [
            "",
            "2027-1-31",
            "2027/01/31",
            "2027-02-29",
            "2024-13-01",
            "2024-00-10",
            "+027-01-01",
            "2027-01-32",
            "31.01.2027",
        ] {
            assert!(CivilDate::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        let start = CivilDate::parse("1900-01-01").unwrap().days();
        for days in start..start + 146_097 {
            let date = CivilDate::from_days(days);
            assert_eq!(CivilDate::parse(&date.to_string()), Ok(date));
        }
    }
}
