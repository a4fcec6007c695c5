//! Dates and instants, and the clock they are read from. The library never reads the system time
//! on its own: commands pass a [`Clock`], so tests (and the hidden `--now` flag) are
//! deterministic.
//!
//! Only UTC and the proleptic Gregorian calendar exist here. Instants are written the one way
//! RFC 3339 allows without choices (`YYYY-MM-DDTHH:MM:SSZ`), so text and value map one to one.

use std::fmt;

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Timestamp(seconds)
    }
}

/// A clock that always says the same instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// Seconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// A calendar day (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

const SECONDS_PER_DAY: i64 = 86_400;

impl Timestamp {
    /// Parses exactly `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn parse(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        if b.len() != 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
            return None;
        }
        let date = Date::parse(text.get(..10)?)?;
        let hour = digits(text.get(11..13)?)?;
        let minute = digits(text.get(14..16)?)?;
        let second = digits(text.get(17..19)?)?;
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        Some(Timestamp(
            date.days_since_epoch() * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second,
        ))
    }

    /// The day this instant falls on.
    pub fn date(self) -> Date {
        Date::from_days_since_epoch(self.0.div_euclid(SECONDS_PER_DAY))
    }

    pub fn plus_days(self, days: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(days.saturating_mul(SECONDS_PER_DAY)))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let in_day = self.0.rem_euclid(SECONDS_PER_DAY);
        write!(
            f,
            "{}T{:02}:{:02}:{:02}Z",
            self.date(),
            in_day / 3600,
            in_day / 60 % 60,
            in_day % 60
        )
    }
}

impl Date {
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    /// Parses exactly `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year = i32::try_from(digits(text.get(..4)?)?).ok()?;
        let month = u8::try_from(digits(text.get(5..7)?)?).ok()?;
        let day = u8::try_from(digits(text.get(8..10)?)?).ok()?;
        Date::new(year, month, day)
    }

    /// Whole days from `earlier` to this date (negative when `earlier` is later).
    pub fn days_since(self, earlier: Date) -> i64 {
        self.days_since_epoch() - earlier.days_since_epoch()
    }

    /// The first instant of this day.
    pub fn start(self) -> Timestamp {
        Timestamp(self.days_since_epoch() * SECONDS_PER_DAY)
    }

    /// The first instant after this day has ended: a key valid "until 2026-12-31" is valid for
    /// all of that day.
    pub fn end(self) -> Timestamp {
        Timestamp((self.days_since_epoch() + 1) * SECONDS_PER_DAY)
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    fn days_since_epoch(self) -> i64 {
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let year_of_era = y - era * 400;
        let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The inverse of [`Self::days_since_epoch`] (Hinnant's `civil_from_days`).
    fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A date is read from a string (`"2026-12-31"`) or from a TOML date literal (`2026-12-31`, which
/// the toml crate hands over as a one-entry map).
impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DateVisitor)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

struct DateVisitor;

impl<'de> serde::de::Visitor<'de> for DateVisitor {
    type Value = Date;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date such as 2026-12-31")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Date, E> {
        Date::parse(text).ok_or_else(|| {
            E::custom(format!(
                "`{}` is not a date: write YYYY-MM-DD, such as 2026-12-31",
                text.chars()
                    .take(40)
                    .flat_map(char::escape_default)
                    .collect::<String>()
            ))
        })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Date, A::Error> {
        let Some((_, text)) = map.next_entry::<String, String>()? else {
            return Err(serde::de::Error::custom(
                "expected a date such as 2026-12-31",
            ));
        };
        if map.next_key::<String>()?.is_some() {
            return Err(serde::de::Error::custom(
                "expected a date such as 2026-12-31",
            ));
        }
        self.visit_str(&text)
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A fixed-width run of ASCII digits.
fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip() {
        for text in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T12:34:56Z",
            "2024-12-31T23:59:59Z",
            "2100-03-01T00:00:00Z",
        ] {
            let t = Timestamp::parse(text).expect(text);
            assert_eq!(t.to_string(), text);
        }
        assert_eq!(
            Timestamp::parse("2001-09-09T01:46:40Z"),
            Some(Timestamp(1_000_000_000))
        );
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        for days in -800_000..800_000 {
            let date = Date::from_days_since_epoch(days);
            assert_eq!(date.days_since_epoch(), days, "{date}");
        }
    }

    #[test]
    fn rejects_anything_but_the_one_form() {
        for text in [
            "",
            "2024-01-01",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00+00:00",
            "2024-01-01t00:00:00Z",
            "2024-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "+024-01-01T00:00:00Z",
            "2024-1-01T00:00:00Z ",
        ] {
            assert_eq!(Timestamp::parse(text), None, "{text:?}");
        }
        assert_eq!(Date::parse("2024-13-01"), None);
        assert_eq!(Date::parse("0000-01-01"), None);
    }

    #[test]
    fn a_day_lasts_until_its_end() {
        let day = Date::parse("2026-12-31").expect("valid");
        assert_eq!(day.end().to_string(), "2027-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::parse("2026-12-31T23:59:59Z").map(Timestamp::date),
            Some(day)
        );
    }
}
