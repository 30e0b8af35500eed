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
