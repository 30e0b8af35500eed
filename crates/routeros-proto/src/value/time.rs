//! Dates and times as RouterOS writes them (v6 `dec/02/2026`, v7 ISO).

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------
// Dates

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// A calendar date as RouterOS prints it (no time zone: the router's local
/// date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    /// 1–12.
    pub month: u8,
    /// 1–31, valid for the month.
    pub day: u8,
}

/// A wall-clock time as RouterOS prints it (`12:11:25`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time {
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// 0–59.
    pub second: u8,
}

/// A date and time as RouterOS prints it, in either format:
/// `jun/01/2023 12:11:25` before 7.10, `2023-06-01 12:16:16` from 7.10
/// (ROUTEROS.md §1.8). RouterOS prints the router's local time; treating the
/// fields as UTC (as [`DateTime::unix_seconds`] does) is the caller's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

pub(super) fn digits<T: std::str::FromStr>(text: &str, len: usize) -> Option<T> {
    if text.len() == len && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 31,
    }
}

impl Date {
    /// A valid date, or `None` (month 13, `feb/29` in a common year, …).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let ok = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
        ok.then_some(Self { year, month, day })
    }

    /// Days since 1970-01-01 (negative before), proleptic Gregorian.
    pub fn days_since_epoch(&self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let m = i64::from(self.month);
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The inverse of [`Date::days_since_epoch`]; `None` outside years 0–9999.
    pub fn from_days_since_epoch(days: i64) -> Option<Self> {
        let z = days.checked_add(719_468)?;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self::new(u16::try_from(year).ok().filter(|y| *y <= 9999)?, month, day)
    }

    /// `jun/01/2023`, as RouterOS before 7.10 prints it.
    pub fn to_legacy_string(&self) -> String {
        format!(
            "{}/{:02}/{:04}",
            MONTHS[usize::from(self.month - 1)],
            self.day,
            self.year
        )
    }
}

/// `2023-06-01`, as RouterOS 7.10+ prints it.
impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Time {
    pub fn new(hour: u8, minute: u8, second: u8) -> Option<Self> {
        (hour < 24 && minute < 60 && second < 60).then_some(Self {
            hour,
            minute,
            second,
        })
    }

    pub fn seconds_of_day(&self) -> u32 {
        u32::from(self.hour) * 3600 + u32::from(self.minute) * 60 + u32::from(self.second)
    }
}

impl std::fmt::Display for Time {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }
}

impl DateTime {
    pub fn new(date: Date, time: Time) -> Self {
        Self {
            year: date.year,
            month: date.month,
            day: date.day,
            hour: time.hour,
            minute: time.minute,
            second: time.second,
        }
    }

    pub fn date(&self) -> Date {
        Date {
            year: self.year,
            month: self.month,
            day: self.day,
        }
    }

    pub fn time(&self) -> Time {
        Time {
            hour: self.hour,
            minute: self.minute,
            second: self.second,
        }
    }

    /// Seconds since 1970-01-01 00:00:00, reading the fields as UTC.
    pub fn unix_seconds(&self) -> i64 {
        self.date().days_since_epoch() * 86_400 + i64::from(self.time().seconds_of_day())
    }

    /// The inverse of [`DateTime::unix_seconds`]; `None` outside years 0–9999.
    pub fn from_unix_seconds(secs: i64) -> Option<Self> {
        let date = Date::from_days_since_epoch(secs.div_euclid(86_400))?;
        let s = secs.rem_euclid(86_400);
        let time = Time::new((s / 3600) as u8, (s / 60 % 60) as u8, (s % 60) as u8)?;
        Some(Self::new(date, time))
    }

    /// `jun/01/2023 12:11:25`, as RouterOS before 7.10 prints it.
    pub fn to_legacy_string(&self) -> String {
        format!("{} {}", self.date().to_legacy_string(), self.time())
    }
}

/// `2023-06-01 12:16:16`, as RouterOS 7.10+ prints it.
impl std::fmt::Display for DateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.date(), self.time())
    }
}

/// Parses a date in either RouterOS format: `jun/01/2023` (before 7.10; the
/// month name in any case, `Jun`, `JUN`) or `2023-06-01` (7.10+). Fields
/// must have their full width (`jun/1/2023` is `None`) and name a real day.
pub fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    if let Some((month, rest)) = text.split_once('/') {
        let (day, year) = rest.split_once('/')?;
        let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))?;
        return Date::new(digits(year, 4)?, month as u8 + 1, digits(day, 2)?);
    }
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Date::new(digits(year, 4)?, digits(month, 2)?, digits(day, 2)?)
}

/// Parses `12:11:25` (always two digits each, 00:00:00–23:59:59).
pub fn parse_time(text: &str) -> Option<Time> {
    let mut parts = text.trim().split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Time::new(digits(h, 2)?, digits(m, 2)?, digits(s, 2)?)
}

/// Parses a RouterOS date and time in either format (`jun/01/2023 12:11:25`,
/// `2023-06-01 12:16:16`); a date alone means midnight.
pub fn parse_datetime(text: &str) -> Option<DateTime> {
    let mut parts = text.split_ascii_whitespace();
    let date = parse_date(parts.next()?)?;
    let time = match parts.next() {
        Some(t) => parse_time(t)?,
        None => Time {
            hour: 0,
            minute: 0,
            second: 0,
        },
    };
    if parts.next().is_some() {
        return None;
    }
    Some(DateTime::new(date, time))
}

/// [`parse_datetime`] as seconds since the Unix epoch, reading it as UTC.
pub fn parse_unix_seconds(text: &str) -> Option<i64> {
    parse_datetime(text).map(|d| d.unix_seconds())
}

#[cfg(test)]
mod date_tests {
    use super::*;

    fn dt(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> DateTime {
        DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        }
    }

    #[test]
    fn both_routeros_formats() {
        // ROUTEROS.md §1.8: before 7.10 and from 7.10.
        assert_eq!(
            parse_datetime("jun/01/2023 12:11:25"),
            Some(dt(2023, 6, 1, 12, 11, 25))
        );
        assert_eq!(
            parse_datetime("2023-06-01 12:16:16"),
            Some(dt(2023, 6, 1, 12, 16, 16))
        );
        // The REST doc's two copies of one example.
        assert_eq!(
            parse_datetime("Dec/04/2020 14:19:51"),
            parse_datetime("2020-12-04 14:19:51")
        );
        assert_eq!(
            parse_datetime("SEP/20/2024 13:00:27"),
            Some(dt(2024, 9, 20, 13, 0, 27))
        );
        assert_eq!(
            parse_datetime("  2024-09-20   13:00:27 "),
            Some(dt(2024, 9, 20, 13, 0, 27))
        );
        for (i, m) in MONTHS.iter().enumerate() {
            let d = parse_date(&format!("{m}/15/2021")).unwrap();
            assert_eq!(d.month as usize, i + 1);
        }
    }

    #[test]
    fn date_only_and_time_only() {
        assert_eq!(parse_date("jun/01/2023"), Date::new(2023, 6, 1));
        assert_eq!(parse_date("2023-06-01"), Date::new(2023, 6, 1));
        assert_eq!(parse_datetime("2023-06-01"), Some(dt(2023, 6, 1, 0, 0, 0)));
        assert_eq!(parse_datetime("jun/01/2023"), Some(dt(2023, 6, 1, 0, 0, 0)));
        assert_eq!(parse_time("12:11:25"), Time::new(12, 11, 25));
        assert_eq!(parse_time("00:00:00"), Time::new(0, 0, 0));
        assert_eq!(parse_time("23:59:59"), Time::new(23, 59, 59));
        assert_eq!(parse_datetime("12:11:25"), None, "a time alone is no date");
        assert_eq!(parse_date("2023-06-01 12:11:25"), None);
    }

    #[test]
    fn boundaries_and_garbage() {
        assert!(parse_date("feb/29/2024").is_some());
        assert!(parse_date("2000-02-29").is_some());
        assert!(parse_date("2023-12-31").is_some());
        assert!(parse_date("2023-01-01").is_some());
        for bad in [
            "feb/29/2023",
            "1900-02-29",
            "2023-04-31",
            "apr/31/2023",
            "2023-13-01",
            "2023-00-10",
            "2023-01-00",
            "2023-01-32",
            "jun/1/2023",
            "jun/01/23",
            "2023-6-1",
            "juni/01/2023",
            "june/01/2023",
            "xyz/01/2023",
            "2023/06/01",
            "2023-06-01-02",
            "jun/01/2023/1",
            "+023-06-01",
            "２０２３-06-01",
            "",
            "   ",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
            assert_eq!(parse_datetime(bad), None, "{bad:?}");
        }
        for bad in [
            "24:00:00",
            "23:60:00",
            "23:59:60",
            "1:02:03",
            "12:11",
            "12:11:25:00",
            "12:11:2x",
            "12:11:25.5",
            "",
        ] {
            assert_eq!(parse_time(bad), None, "{bad:?}");
            assert_eq!(parse_datetime(&format!("2023-06-01 {bad}x")), None);
        }
        assert_eq!(parse_datetime("2023-06-01T12:16:16"), None);
        assert_eq!(parse_datetime("2023-06-01 12:16:16 UTC"), None);
    }

    #[test]
    fn unix_seconds() {
        assert_eq!(parse_unix_seconds("1970-01-01 00:00:00"), Some(0));
        assert_eq!(parse_unix_seconds("jan/01/1970"), Some(0));
        assert_eq!(parse_unix_seconds("dec/31/1969 23:59:59"), Some(-1));
        assert_eq!(
            parse_unix_seconds("2023-06-01 12:16:16"),
            Some(1_685_621_776)
        );
        assert_eq!(
            parse_unix_seconds("dec/04/2020 14:19:51"),
            Some(1_607_091_591)
        );
        assert_eq!(parse_unix_seconds("2024-02-29"), Some(1_709_164_800));
        assert_eq!(parse_unix_seconds("2038-01-19 03:14:08"), Some(1 << 31));
        assert_eq!(
            parse_unix_seconds("9999-12-31 23:59:59"),
            Some(253_402_300_799)
        );
        assert_eq!(
            parse_unix_seconds("0001-01-01 00:00:00"),
            Some(-62_135_596_800)
        );
        assert_eq!(parse_unix_seconds("nonsense"), None);
    }

    #[test]
    fn prints_in_both_formats_and_parses_back() {
        let t = dt(2024, 9, 20, 13, 0, 27);
        assert_eq!(t.to_string(), "2024-09-20 13:00:27");
        assert_eq!(t.to_legacy_string(), "sep/20/2024 13:00:27");
        assert_eq!(parse_datetime(&t.to_string()), Some(t));
        assert_eq!(parse_datetime(&t.to_legacy_string()), Some(t));
        assert_eq!(t.date().to_string(), "2024-09-20");
        assert_eq!(t.time().to_string(), "13:00:27");
        assert_eq!(DateTime::from_unix_seconds(t.unix_seconds()), Some(t));
        assert_eq!(DateTime::from_unix_seconds(253_402_300_800), None);
        assert_eq!(
            DateTime::from_unix_seconds(-1),
            Some(dt(1969, 12, 31, 23, 59, 59))
        );
    }

    proptest::proptest! {
        #[test]
        fn unix_seconds_round_trip(secs in -62_167_219_200i64..=253_402_300_799) {
            let t = DateTime::from_unix_seconds(secs).unwrap();
            proptest::prop_assert_eq!(t.unix_seconds(), secs);
            proptest::prop_assert_eq!(parse_datetime(&t.to_string()), Some(t));
            proptest::prop_assert_eq!(parse_datetime(&t.to_legacy_string()), Some(t));
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,24}") {
            let _ = (parse_datetime(&text), parse_date(&text), parse_time(&text));
        }
    }
}
