//! RouterOS value types: everything arrives as text.

/// Parses a RouterOS duration (`1w2d3h4m5s`, `3h4m`, `500ms`, `00:01:02`,
/// `1d00:01:02.5`) into whole seconds.
pub fn parse_duration_secs(text: &str) -> Option<u64> {
    parse_duration(text).map(|d| d.as_secs())
}

/// Parses a RouterOS duration, keeping milliseconds.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let ms = |secs: f64| std::time::Duration::from_millis((secs * 1000.0).round() as u64);
    if text.contains(':') {
        let (days, clock) = match text.split_once('d') {
            Some((d, rest)) => (d.parse::<u64>().ok()?, rest),
            None => (0, text),
        };
        let parts: Vec<&str> = clock.split(':').collect();
        if parts.len() != 3 {
            return None;
        }
        let h: u64 = parts[0].parse().ok()?;
        let m: u64 = parts[1].parse().ok()?;
        let s: f64 = parts[2].parse().ok()?;
        return Some(ms((days * 86_400 + h * 3600 + m * 60) as f64 + s));
    }
    let mut total_ms = 0u64;
    let mut num = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        let unit_ms = match c {
            'w' => 604_800_000,
            'd' => 86_400_000,
            'h' => 3_600_000,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1
            }
            'm' => 60_000,
            's' => 1000,
            _ => return None,
        };
        total_ms += n * unit_ms;
    }
    if !num.is_empty() {
        return None;
    }
    Some(std::time::Duration::from_millis(total_ms))
}

/// Parses a RouterOS boolean; the router accepts all four spellings.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "yes" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("1w2d3h4m5s"), Some(788_645));
        assert_eq!(parse_duration_secs("2d20h12m20s"), Some(245_540));
        assert_eq!(parse_duration_secs("45s"), Some(45));
        assert_eq!(parse_duration_secs("1m500ms"), Some(60));
        assert_eq!(parse_duration_secs("00:01:02"), Some(62));
        assert_eq!(parse_duration_secs("1d00:00:10"), Some(86_410));
        assert_eq!(parse_duration_secs(""), None);
        assert_eq!(parse_duration_secs("12"), None);
        assert_eq!(parse_duration_secs("3x"), None);
        assert_eq!(
            parse_duration("500ms"),
            Some(std::time::Duration::from_millis(500))
        );
        assert_eq!(
            parse_duration("1s250ms"),
            Some(std::time::Duration::from_millis(1250))
        );
        assert_eq!(
            parse_duration("00:00:01.5"),
            Some(std::time::Duration::from_millis(1500))
        );
    }

    #[test]
    fn booleans() {
        assert_eq!(parse_bool("yes"), Some(true));
        assert_eq!(parse_bool("true"), Some(true));
        assert_eq!(parse_bool("no"), Some(false));
        assert_eq!(parse_bool("false"), Some(false));
        assert_eq!(parse_bool("1"), None);
    }
}

/// Formats seconds the way RouterOS prints durations: `1w2d3h4m5s`.
pub fn format_duration(secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = secs;
    for (unit, size) in [
        ('w', 604_800),
        ('d', 86_400),
        ('h', 3600),
        ('m', 60),
        ('s', 1),
    ] {
        let n = rest / size;
        rest %= size;
        if n > 0 {
            out.push_str(&n.to_string());
            out.push(unit);
        }
    }
    out
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn formats_and_round_trips() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(788_645), "1w2d3h4m5s");
        assert_eq!(format_duration(3600), "1h");
        for s in [1, 59, 60, 61, 3599, 86_400, 1_000_000] {
            assert_eq!(parse_duration_secs(&format_duration(s)), Some(s));
        }
    }
}

// ---------------------------------------------------------------------------
// Numbers

/// Parses an unsigned integer only when `text` is its canonical decimal
/// form, as librouteros does since 4.1.1 (ROUTEROS.md §1.8, §5): `22` → 22,
/// `0` → 0, but `007`, `00`, `22.2`, `+1`, ` 1`, `1_000` and `none` stay text
/// (`None`), because names such as `007` must survive a round trip.
/// Values beyond `u64` are `None` too: they cannot be kept exact.
pub fn parse_uint(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let canonical =
        !b.is_empty() && b.iter().all(u8::is_ascii_digit) && (b[0] != b'0' || b.len() == 1);
    if canonical {
        text.parse().ok()
    } else {
        None
    }
}

/// Like [`parse_uint`], also accepting a leading `-` (`-70` dBm): `-0`,
/// `-07` and `+1` stay text, exactly as librouteros's `str(int(v)) == v`.
pub fn parse_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits == "0" && digits.len() != text.len() {
        return None;
    }
    parse_uint(digits)?;
    text.parse().ok()
}

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

fn digits<T: std::str::FromStr>(text: &str, len: usize) -> Option<T> {
    if text.len() == len && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

fn is_leap(year: u16) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
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

// ---------------------------------------------------------------------------
// Character sets

/// The codepage a router's strings are assumed to use when they are not
/// UTF-8. RouterOS stores raw bytes; WinBox writes them in the Windows
/// codepage of the PC (ROUTEROS.md §1.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Codepage {
    Utf8,
    Windows1250,
    Windows1251,
    /// Western European; WinBox's usual codepage, and node-routeros's fixed one.
    #[default]
    Windows1252,
    Windows1253,
    Windows1254,
    Windows1255,
    Windows1256,
    Windows1257,
    Windows1258,
    /// ISO-8859-1 proper: byte `n` is U+00nn (unlike the WHATWG label,
    /// which means windows-1252).
    Latin1,
    Iso8859_2,
    Iso8859_5,
    Iso8859_15,
    Koi8R,
    Koi8U,
}

impl Codepage {
    pub const ALL: [Codepage; 16] = [
        Codepage::Utf8,
        Codepage::Windows1250,
        Codepage::Windows1251,
        Codepage::Windows1252,
        Codepage::Windows1253,
        Codepage::Windows1254,
        Codepage::Windows1255,
        Codepage::Windows1256,
        Codepage::Windows1257,
        Codepage::Windows1258,
        Codepage::Latin1,
        Codepage::Iso8859_2,
        Codepage::Iso8859_5,
        Codepage::Iso8859_15,
        Codepage::Koi8R,
        Codepage::Koi8U,
    ];

    /// The canonical (WHATWG) name, accepted back by `FromStr`.
    pub fn name(self) -> &'static str {
        match self {
            Codepage::Utf8 => "utf-8",
            Codepage::Windows1250 => "windows-1250",
            Codepage::Windows1251 => "windows-1251",
            Codepage::Windows1252 => "windows-1252",
            Codepage::Windows1253 => "windows-1253",
            Codepage::Windows1254 => "windows-1254",
            Codepage::Windows1255 => "windows-1255",
            Codepage::Windows1256 => "windows-1256",
            Codepage::Windows1257 => "windows-1257",
            Codepage::Windows1258 => "windows-1258",
            Codepage::Latin1 => "iso-8859-1",
            Codepage::Iso8859_2 => "iso-8859-2",
            Codepage::Iso8859_5 => "iso-8859-5",
            Codepage::Iso8859_15 => "iso-8859-15",
            Codepage::Koi8R => "koi8-r",
            Codepage::Koi8U => "koi8-u",
        }
    }

    /// The encoding_rs codec; `None` for Latin-1, which encoding_rs does not
    /// have (its `iso-8859-1` label is windows-1252).
    fn encoding(self) -> Option<&'static encoding_rs::Encoding> {
        use encoding_rs as e;
        Some(match self {
            Codepage::Utf8 => e::UTF_8,
            Codepage::Windows1250 => e::WINDOWS_1250,
            Codepage::Windows1251 => e::WINDOWS_1251,
            Codepage::Windows1252 => e::WINDOWS_1252,
            Codepage::Windows1253 => e::WINDOWS_1253,
            Codepage::Windows1254 => e::WINDOWS_1254,
            Codepage::Windows1255 => e::WINDOWS_1255,
            Codepage::Windows1256 => e::WINDOWS_1256,
            Codepage::Windows1257 => e::WINDOWS_1257,
            Codepage::Windows1258 => e::WINDOWS_1258,
            Codepage::Latin1 => return None,
            Codepage::Iso8859_2 => e::ISO_8859_2,
            Codepage::Iso8859_5 => e::ISO_8859_5,
            Codepage::Iso8859_15 => e::ISO_8859_15,
            Codepage::Koi8R => e::KOI8_R,
            Codepage::Koi8U => e::KOI8_U,
        })
    }
}

impl std::fmt::Display for Codepage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown or unsupported codepage name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown codepage {0:?} (try windows-1250, windows-1251, windows-1252, iso-8859-1, utf-8)")]
pub struct UnknownCodepage(pub String);

impl std::str::FromStr for Codepage {
    type Err = UnknownCodepage;

    /// Accepts the WHATWG labels (`windows-1251`, `koi8-r`, `iso-8859-2`,
    /// `utf8`, …), Windows shorthands (`cp1251`, `win1251`, `1251`), and
    /// `latin1` / `iso-8859-1` / `l1` for true ISO-8859-1.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let label = s.trim().to_ascii_lowercase();
        let unknown = || UnknownCodepage(s.to_owned());
        match label.as_str() {
            "latin1" | "latin-1" | "l1" | "iso-8859-1" | "iso8859-1" | "iso_8859-1"
            | "iso88591" | "cp819" | "ibm819" => return Ok(Codepage::Latin1),
            _ => {}
        }
        let windows = ["cp", "win", "windows", "windows-", "ms-", ""]
            .iter()
            .find_map(|p| label.strip_prefix(p).and_then(|n| digits::<u16>(n, 4)));
        let label = match windows {
            Some(n @ 1250..=1258) => format!("windows-{n}"),
            Some(_) => return Err(unknown()),
            None => label,
        };
        let encoding = encoding_rs::Encoding::for_label(label.as_bytes()).ok_or_else(unknown)?;
        Codepage::ALL
            .into_iter()
            .find(|c| c.encoding() == Some(encoding))
            .ok_or_else(unknown)
    }
}

/// A character the chosen codepage cannot represent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("character {ch:?} (U+{code:04X}) at position {index} cannot be written in {codepage}", code = u32::from(*ch))]
pub struct EncodeError {
    pub ch: char,
    /// Index of the character (in characters, not bytes) in the text.
    pub index: usize,
    pub codepage: Codepage,
}

/// Decodes router bytes for display: UTF-8 when they are valid UTF-8
/// (borrowed, no copy), otherwise `fallback`, the device's codepage.
///
/// Never lossy for bytes that are valid in `fallback`: every single-byte
/// codepage here maps each of its bytes to one character, and
/// [`encode_for_router`] gives the same bytes back. Only bytes the codepage
/// leaves undefined (windows-1253's `0xAA`, say) become U+FFFD.
///
/// ```
/// use routeros_proto::value::{decode_display, Codepage};
/// assert_eq!(decode_display("Zürich".as_bytes(), Codepage::Windows1252), "Zürich");
/// assert_eq!(decode_display(b"Z\xfcrich", Codepage::Windows1252), "Zürich");
/// assert_eq!(decode_display(b"\xa3\xf3d\x9f", Codepage::Windows1250), "Łódź");
/// ```
pub fn decode_display(bytes: &[u8], fallback: Codepage) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(s);
    }
    match fallback.encoding() {
        None => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
        Some(e) => match e.decode_without_bom_handling_and_without_replacement(bytes) {
            Some(s) => s,
            None => e.decode_without_bom_handling(bytes).0,
        },
    }
}

/// Encodes text for writing to a router in `codepage`. Fails on the first
/// character the codepage cannot represent instead of replacing it.
///
/// ```
/// use routeros_proto::value::{encode_for_router, Codepage};
/// assert_eq!(encode_for_router("Łódź", Codepage::Windows1250).unwrap(), b"\xa3\xf3d\x9f");
/// let err = encode_for_router("Łódź", Codepage::Windows1252).unwrap_err();
/// assert_eq!((err.ch, err.index), ('Ł', 0));
/// ```
pub fn encode_for_router(text: &str, codepage: Codepage) -> Result<Vec<u8>, EncodeError> {
    let unmappable = |ch: char, byte_end: usize| EncodeError {
        ch,
        index: text[..byte_end].chars().count() - 1,
        codepage,
    };
    let encoding = match codepage.encoding() {
        None => {
            return text
                .char_indices()
                .map(|(i, c)| u8::try_from(c).map_err(|_| unmappable(c, i + c.len_utf8())))
                .collect();
        }
        Some(e) if e == encoding_rs::UTF_8 => return Ok(text.as_bytes().to_vec()),
        Some(e) => e,
    };
    let mut encoder = encoding.new_encoder();
    // Single-byte codepages: one byte per character at most.
    let mut out = vec![0; text.len()];
    let (result, read, written) =
        encoder.encode_from_utf8_without_replacement(text, &mut out, true);
    match result {
        encoding_rs::EncoderResult::InputEmpty => {
            out.truncate(written);
            Ok(out)
        }
        encoding_rs::EncoderResult::Unmappable(c) => Err(unmappable(c, read)),
        encoding_rs::EncoderResult::OutputFull => {
            unreachable!("a single-byte encoding never writes more bytes than UTF-8 has")
        }
    }
}

#[cfg(test)]
mod number_tests {
    use super::*;

    #[test]
    fn only_canonical_decimals_become_numbers() {
        // librouteros value casting (ROUTEROS.md §5).
        assert_eq!(parse_uint("22"), Some(22));
        assert_eq!(parse_uint("0"), Some(0));
        for text in [
            "007", "00", "01", "22.2", "none", "+1", "-1", "", " 1", "1 ", "1_000",
        ] {
            assert_eq!(parse_uint(text), None, "{text:?}");
        }
        assert_eq!(parse_uint("٣"), None, "non-ASCII digits");
        assert_eq!(parse_uint("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_uint("18446744073709551616"), None, "not exact");
    }

    #[test]
    fn signed_numbers_keep_the_same_rule() {
        assert_eq!(parse_int("-70"), Some(-70));
        assert_eq!(parse_int("22"), Some(22));
        assert_eq!(parse_int("0"), Some(0));
        for text in ["-0", "-07", "--1", "-", "+1", "+0", "- 1", "007", "1e3"] {
            assert_eq!(parse_int(text), None, "{text:?}");
        }
        assert_eq!(parse_int("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int("9223372036854775808"), None);
        assert_eq!(parse_int("-9223372036854775809"), None);
    }

    proptest::proptest! {
        #[test]
        fn printed_numbers_parse_back(n in proptest::prelude::any::<i64>(), u in proptest::prelude::any::<u64>()) {
            proptest::prop_assert_eq!(parse_int(&n.to_string()), Some(n));
            proptest::prop_assert_eq!(parse_uint(&u.to_string()), Some(u));
        }

        #[test]
        fn a_parsed_number_prints_as_the_same_text(text in "[-+0-9]{0,21}") {
            if let Some(n) = parse_int(&text) {
                proptest::prop_assert_eq!(n.to_string(), text.clone());
            }
            if let Some(n) = parse_uint(&text) {
                proptest::prop_assert_eq!(n.to_string(), text);
            }
        }
    }
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

#[cfg(test)]
mod codepage_tests {
    use super::*;
    use std::borrow::Cow;

    const ROUTER_CP1251: &[u8] = b"\xcc\xe0\xf0\xf8\xf0\xf3\xf2\xe8\xe7\xe0\xf2\xee\xf0";
    const POLISH_CP1250: &[u8] = b"Za\xbf\xf3\xb3\xe6 g\xea\x9cl\xb9 ja\x9f\xf1";

    #[test]
    fn utf8_wins_when_valid_and_borrows() {
        for cp in Codepage::ALL {
            assert!(matches!(
                decode_display("Маршрутизатор łąć".as_bytes(), cp),
                Cow::Borrowed("Маршрутизатор łąć")
            ));
            assert!(matches!(
                decode_display(b"ether1", cp),
                Cow::Borrowed("ether1")
            ));
        }
    }

    #[test]
    fn librouteros_drops_what_we_keep() {
        // librouteros decodes `\x11\xfb\x95łąć` to `\x11łąć`, silently losing
        // two bytes (ROUTEROS.md §5). We fall back to the codepage instead,
        // and the text encodes back to exactly the same bytes.
        let bytes = "\x11\u{fb}\u{95}łąć"
            .chars()
            .flat_map(|c| match c {
                '\u{fb}' => vec![0xFB],
                '\u{95}' => vec![0x95],
                c => c.to_string().into_bytes(),
            })
            .collect::<Vec<u8>>();
        assert_eq!(bytes, b"\x11\xfb\x95\xc5\x82\xc4\x85\xc4\x87");
        let text = decode_display(&bytes, Codepage::Windows1252);
        assert_eq!(text, "\u{11}û•Å‚Ä…Ä‡");
        assert_eq!(
            encode_for_router(&text, Codepage::Windows1252).unwrap(),
            bytes
        );
        let latin1 = decode_display(&bytes, Codepage::Latin1);
        assert_eq!(latin1, "\u{11}û\u{95}Å\u{82}Ä\u{85}Ä\u{87}");
        assert_eq!(encode_for_router(&latin1, Codepage::Latin1).unwrap(), bytes);
    }

    #[test]
    fn cyrillic_identity_in_cp1251() {
        assert_eq!(
            decode_display(ROUTER_CP1251, Codepage::Windows1251),
            "Маршрутизатор"
        );
        assert_eq!(
            encode_for_router("Маршрутизатор", Codepage::Windows1251).unwrap(),
            ROUTER_CP1251
        );
        // The same letters in KOI8-R are different bytes.
        let koi8 = b"\xed\xc1\xd2\xdb\xd2\xd5\xd4\xc9\xda\xc1\xd4\xcf\xd2";
        assert_eq!(decode_display(koi8, Codepage::Koi8R), "Маршрутизатор");
        assert_eq!(
            encode_for_router("Маршрутизатор", Codepage::Koi8R).unwrap(),
            koi8
        );
        // Read with the wrong codepage, it is still not lossy, just wrong.
        let wrong = decode_display(ROUTER_CP1251, Codepage::Windows1252);
        assert_eq!(wrong, "Ìàðøðóòèçàòîð");
        assert_eq!(
            encode_for_router(&wrong, Codepage::Windows1252).unwrap(),
            ROUTER_CP1251
        );
    }

    #[test]
    fn polish_comment_in_cp1250() {
        assert_eq!(
            decode_display(POLISH_CP1250, Codepage::Windows1250),
            "Zażółć gęślą jaźń"
        );
        assert_eq!(
            encode_for_router("Zażółć gęślą jaźń", Codepage::Windows1250).unwrap(),
            POLISH_CP1250
        );
        // ISO-8859-2 puts some letters elsewhere (ź is 0xBC, not 0x9F).
        assert_eq!(
            encode_for_router("Łódź", Codepage::Iso8859_2).unwrap(),
            b"\xa3\xf3d\xbc"
        );
    }

    #[test]
    fn latin1_is_not_windows_1252() {
        assert_eq!(decode_display(b"\x80\xe9", Codepage::Windows1252), "€é");
        assert_eq!(decode_display(b"\x80\xe9", Codepage::Latin1), "\u{80}é");
        assert_eq!(
            encode_for_router("€", Codepage::Windows1252).unwrap(),
            b"\x80"
        );
        let err = encode_for_router("ab€", Codepage::Latin1).unwrap_err();
        assert_eq!(
            (err.ch, err.index, err.codepage),
            ('€', 2, Codepage::Latin1)
        );
    }

    #[test]
    fn unrepresentable_characters_are_errors_not_replacements() {
        let err = encode_for_router("Маршрутизатор", Codepage::Windows1252).unwrap_err();
        assert_eq!((err.ch, err.index), ('М', 0));
        let err = encode_for_router("Zażółć", Codepage::Windows1252).unwrap_err();
        assert_eq!((err.ch, err.index), ('ż', 2));
        assert_eq!(
            err.to_string(),
            "character 'ż' (U+017C) at position 2 cannot be written in windows-1252"
        );
        let err = encode_for_router("ok 😀", Codepage::Windows1251).unwrap_err();
        assert_eq!((err.ch, err.index), ('😀', 3));
        assert_eq!(
            encode_for_router("ok 😀", Codepage::Utf8).unwrap(),
            "ok 😀".as_bytes()
        );
        assert_eq!(encode_for_router("", Codepage::Windows1250).unwrap(), b"");
    }

    #[test]
    fn every_byte_a_codepage_defines_round_trips() {
        for cp in Codepage::ALL.into_iter().filter(|c| *c != Codepage::Utf8) {
            let mut holes = Vec::new();
            for b in 0x80..=0xFFu8 {
                let byte = [b];
                let text = decode_display(&byte, cp);
                if text == "\u{FFFD}" {
                    holes.push(b);
                    continue;
                }
                assert_eq!(text.chars().count(), 1, "{cp} {b:#04x}");
                assert_eq!(encode_for_router(&text, cp).unwrap(), [b], "{cp} {b:#04x}");
            }
            // The codepages users report (§1.8) define every byte.
            if matches!(
                cp,
                Codepage::Windows1250
                    | Codepage::Windows1251
                    | Codepage::Windows1252
                    | Codepage::Latin1
            ) {
                assert!(holes.is_empty(), "{cp} leaves {holes:02x?} undefined");
            }
        }
    }

    #[test]
    fn codepage_names() {
        assert_eq!(Codepage::default(), Codepage::Windows1252);
        for (label, cp) in [
            ("windows-1251", Codepage::Windows1251),
            ("cp1251", Codepage::Windows1251),
            ("CP1251", Codepage::Windows1251),
            ("win1251", Codepage::Windows1251),
            ("1251", Codepage::Windows1251),
            (" Windows-1250 ", Codepage::Windows1250),
            ("cp1252", Codepage::Windows1252),
            ("windows-1257", Codepage::Windows1257),
            ("latin1", Codepage::Latin1),
            ("ISO-8859-1", Codepage::Latin1),
            ("iso8859-1", Codepage::Latin1),
            ("latin2", Codepage::Iso8859_2),
            ("iso-8859-2", Codepage::Iso8859_2),
            ("koi8-r", Codepage::Koi8R),
            ("utf8", Codepage::Utf8),
            ("UTF-8", Codepage::Utf8),
        ] {
            assert_eq!(label.parse::<Codepage>(), Ok(cp), "{label}");
        }
        for bad in ["", "cp437", "cp1249", "windows-1259", "shift_jis", "ebcdic"] {
            assert!(bad.parse::<Codepage>().is_err(), "{bad}");
        }
        for cp in Codepage::ALL {
            assert_eq!(cp.name().parse::<Codepage>(), Ok(cp));
            assert_eq!(cp.to_string(), cp.name());
        }
    }

    fn single_byte() -> impl proptest::strategy::Strategy<Value = Codepage> {
        proptest::sample::select(
            Codepage::ALL
                .into_iter()
                .filter(|c| *c != Codepage::Utf8)
                .collect::<Vec<_>>(),
        )
    }

    proptest::proptest! {
        #[test]
        fn decoding_is_never_lossy_for_bytes_the_codepage_defines(
            cp in single_byte(),
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        ) {
            // Bytes that are valid UTF-8 read as UTF-8 (that is the rule);
            // everything else is the codepage's and must come back intact.
            let text = decode_display(&bytes, cp);
            if std::str::from_utf8(&bytes).is_err() && !text.contains('\u{FFFD}') {
                proptest::prop_assert_eq!(encode_for_router(&text, cp).unwrap(), bytes);
            }
        }

        #[test]
        fn encoding_then_decoding_gives_the_text_back(
            cp in single_byte(),
            text in "\\PC{0,16}",
        ) {
            if let Ok(bytes) = encode_for_router(&text, cp) {
                let back = decode_display(&bytes, cp);
                // Bytes that happen to be valid UTF-8 read as UTF-8 first.
                if std::str::from_utf8(&bytes).is_err() {
                    proptest::prop_assert_eq!(back, text);
                }
            }
        }
    }
}
