//! Sensitive values in router configuration text. RouterOS 6 exports
//! passwords, pre-shared keys and secrets in clear (7 hides most unless
//! asked), and an export kept in the audit trail travels to the shared
//! database with it. [`mask_config`] replaces each such value with `***`,
//! at the top level and inside quoted scripts (`source="… password=\"x\""`).

/// Property names whose value is a secret. `public-key` and the
/// `allow-sharedkey` flag are not.
pub(crate) fn is_sensitive(name: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "password",
        "secret",
        "passphrase",
        "pre-shared-key",
        "preshared-key",
        "private-key",
        "auth-key",
        "transmit-key",
        "protection-key",
    ];
    name == "key" || ENDINGS.iter().any(|e| name.ends_with(e))
}

/// Where a property name may start: the line's start, after blanks, a
/// quote, or script punctuation.
fn starts_token(prev: Option<u8>) -> bool {
    matches!(
        prev,
        None | Some(b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'[' | b'{' | b'(' | b';')
    )
}

/// `text` with every sensitive property's value replaced by `***`, its
/// quoting kept.
pub fn mask_config(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        let prev = if i == 0 { None } else { Some(b[i - 1]) };
        if !starts_token(prev) || !b[i].is_ascii_lowercase() {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && (b[j].is_ascii_lowercase() || b[j].is_ascii_digit() || b[j] == b'-') {
            j += 1;
        }
        if j >= b.len() || b[j] != b'=' || !is_sensitive(&text[i..j]) {
            i = j.max(i + 1);
            continue;
        }
        let start = j + 1;
        let (end, masked) = value_end(b, start);
        out.push_str(&text[copied..start]);
        out.push_str(masked);
        copied = end;
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Where the value starting at `s` ends, and what replaces it.
fn value_end(b: &[u8], s: usize) -> (usize, &'static str) {
    // `"…"`: to the next quote not escaped by a backslash.
    if b.get(s) == Some(&b'"') {
        let mut k = s + 1;
        while k < b.len() && b[k] != b'"' {
            k += if b[k] == b'\\' { 2 } else { 1 };
        }
        return ((k + 1).min(b.len()), "\"***\"");
    }
    // `\"…\"` inside a quoted script: to the next escaped quote.
    if b.get(s) == Some(&b'\\') && b.get(s + 1) == Some(&b'"') {
        let mut k = s + 2;
        while k + 1 < b.len() && !(b[k] == b'\\' && b[k + 1] == b'"') {
            k += if b[k] == b'\\' && b[k + 1] == b'\\' {
                2
            } else {
                1
            };
        }
        return ((k + 2).min(b.len()), "\\\"***\\\"");
    }
    // Bare: to a blank, a quote or script punctuation; an export's
    // line continuation (`\` at the end of a line) is part of it.
    let mut k = s;
    while k < b.len() {
        match b[k] {
            b'\\' if matches!(b.get(k + 1), Some(b'\n' | b'\r')) => {
                k += 1;
                while k < b.len() && matches!(b[k], b'\n' | b'\r' | b' ' | b'\t') {
                    k += 1;
                }
            }
            b'\\' if b.get(k + 1) == Some(&b'"') => break,
            b' ' | b'\t' | b'\n' | b'\r' | b'"' | b']' | b'}' | b')' | b';' => break,
            b'\\' => k += 2,
            _ => k += 1,
        }
    }
    (k.min(b.len()), "***")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_at_every_level_and_the_rest_is_kept() {
        let export = "/ppp secret\n\
            add name=alice password=\"s3 cr\\\"et\" service=pppoe\n\
            /interface wireless security-profiles\n\
            set [ find default=yes ] wpa2-pre-shared-key=PlainKey99 mode=dynamic-keys\n\
            /interface wireguard\n\
            add name=wg0 private-key=\"AbC=\" public-key=KEEPME=\n\
            /ip ipsec peer\n\
            add address=10.0.0.1 secret=split\\\n    value exchange-mode=ike2\n\
            /system script\n\
            add name=vpn source=\"/ppp secret add name=bob password=\\\"Nested1\\\" ;\\r\\\n    :log info done\"\n\
            /interface wireless\n\
            set wlan1 allow-sharedkey=no\n";
        let masked = mask_config(export);
        for secret in ["s3 cr", "PlainKey99", "AbC=", "split", "value", "Nested1"] {
            assert!(!masked.contains(secret), "{secret} left in:\n{masked}");
        }
        for kept in [
            "add name=alice password=\"***\" service=pppoe",
            "wpa2-pre-shared-key=*** mode=dynamic-keys",
            "private-key=\"***\" public-key=KEEPME=",
            "secret=*** exchange-mode=ike2",
            "password=\\\"***\\\" ;",
            ":log info done\"",
            "allow-sharedkey=no",
        ] {
            assert!(masked.contains(kept), "{kept:?} missing in:\n{masked}");
        }
        assert_eq!(
            mask_config("/system identity\nset name=r1\n"),
            "/system identity\nset name=r1\n"
        );
    }
}
