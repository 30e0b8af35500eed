//! Durations, booleans and numbers as RouterOS writes them.

#[allow(unused_imports)]
use super::*;

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
