//! RouterOS value types: everything arrives as text.

/// Parses a RouterOS duration (`1w2d3h4m5s`, `3h4m`, `00:01:02`,
/// `1d00:01:02`, optionally with `ms`) into whole seconds.
pub fn parse_duration_secs(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
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
        return Some(days * 86_400 + h * 3600 + m * 60 + s as u64);
    }
    let mut total = 0u64;
    let mut num = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            'w' => 604_800,
            'd' => 86_400,
            'h' => 3600,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0
            }
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total += n * unit;
    }
    if !num.is_empty() {
        return None;
    }
    Some(total)
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
