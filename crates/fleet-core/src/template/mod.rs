//! Templates: RouterOS script with typed placeholders, rendered so that no
//! value can ever become code.
//!
//! A placeholder is `{{ name: type }}` where it is first used and `{{ name }}`
//! after. Names `router.identity`, `router.serial`, `router.board`,
//! `router.version`, `router.address` and `site.name` are filled by a
//! push from the router and its site (see `bulk`). Types: `string`, `secret` (free text; a secret is masked in
//! previews), `name` (an identifier), `ipv4`, `ipv4_cidr`, `ipv6`, `mac`,
//! `int` or `int(MIN..MAX)`, `bool`, `duration`, `enum(a|b|c)`.
//!
//! Rendering escapes by context (ROUTEROS.md §4.5). The template is lexed
//! (`lex`) to find where each placeholder sits: in script text, inside a
//! quoted string, or inside a string that is itself script (`source=`,
//! `on-event=`, `lease-script=`, netwatch's scripts, `:parse "…"`, …),
//! which RouterOS parses again, to any depth. The value is escaped once
//! for every quoting level it sits in: `\` `"` `$` `?` CR LF TAB
//! become escapes, every other control byte and every byte ≥ 0x80 becomes
//! `\XX`, and NUL is refused. Free text in script position is quoted;
//! typed values must match their type's allow-list first.

use std::{collections::BTreeMap, fmt, net};

use serde::Serialize;

mod lex;

/// A placeholder's type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ValueType {
    String,
    Secret,
    Name,
    Ipv4,
    Ipv4Cidr,
    Ipv6,
    Mac,
    Int { min: i64, max: i64 },
    Bool,
    Duration,
    Enum { values: Vec<String> },
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueType::String => f.write_str("string"),
            ValueType::Secret => f.write_str("secret"),
            ValueType::Name => f.write_str("name"),
            ValueType::Ipv4 => f.write_str("ipv4"),
            ValueType::Ipv4Cidr => f.write_str("ipv4_cidr"),
            ValueType::Ipv6 => f.write_str("ipv6"),
            ValueType::Mac => f.write_str("mac"),
            ValueType::Int { min, max } => write!(f, "int({min}..{max})"),
            ValueType::Bool => f.write_str("bool"),
            ValueType::Duration => f.write_str("duration"),
            ValueType::Enum { values } => write!(f, "enum({})", values.join("|")),
        }
    }
}

/// Where a placeholder sits, as lexed from the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Context {
    /// Strings around it that RouterOS parses again as script (0 at the
    /// top level; up to [`lex::MAX_SCRIPT_LEVELS`]).
    pub script_levels: u8,
    /// Inside a quoted string at its own level.
    pub in_string: bool,
}

/// A template error at a line and column (1-based) of the template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, ts_rs::TS)]
#[error("line {line}, column {column}: {message}")]
pub struct TemplateError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Whether a placeholder is filled at push time from the router
/// (`router.identity`, …) or its site (`site.name`), not by the technician.
pub fn filled_automatically(name: &str) -> bool {
    name.starts_with("router.") || name.starts_with("site.")
}

/// One use of a placeholder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Placeholder {
    pub name: String,
    pub value_type: ValueType,
    pub line: u32,
    pub column: u32,
    pub context: Context,
    /// Byte range of `{{ … }}` in the template.
    #[serde(skip)]
    span: (usize, usize),
}

/// A checked template.
#[derive(Debug, Clone)]
pub struct Template {
    source: String,
    uses: Vec<Placeholder>,
}

/// The rendered script, and the same with secrets masked for previews and
/// logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub text: String,
    pub preview: String,
    /// The values given for `secret` placeholders, for masking what is
    /// shown of the pushed text (a plan, a diff, an export).
    pub secrets: Vec<String>,
}

/// What a secret value is shown as.
pub const MASK: &str = "********";

/// `text` with every secret value masked: as given, and as RouterOS
/// writes it inside a quoted string (an export, a diff).
pub fn mask_secrets(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        // As given, then as written in a string, and in a string inside a
        // script string, … (deepest first: each form contains the next).
        let mut forms = vec![secret.clone()];
        for _ in 0..=lex::MAX_SCRIPT_LEVELS {
            let last = forms.last().map_or("", String::as_str);
            forms.push(routeros_proto::script::escape_value(last.as_bytes()));
        }
        forms.dedup();
        for form in forms.iter().rev() {
            out = out.replace(form.as_str(), MASK);
        }
    }
    out
}

/// The line and column (1-based, in characters as an editor counts them)
/// of byte `at`.
fn line_column(source: &str, at: usize) -> (u32, u32) {
    let before = &source[..at];
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    (
        before.matches('\n').count() as u32 + 1,
        before[line_start..].chars().count() as u32 + 1,
    )
}

fn err(line: u32, column: u32, message: impl Into<String>) -> TemplateError {
    TemplateError {
        line,
        column,
        message: message.into(),
    }
}

fn parse_type(text: &str) -> Result<ValueType, String> {
    let text = text.trim();
    let (head, args) = match text.split_once('(') {
        Some((h, rest)) => (
            h.trim(),
            Some(
                rest.strip_suffix(')')
                    .ok_or_else(|| format!("{text:?}: missing )"))?
                    .trim(),
            ),
        ),
        None => (text, None),
    };
    Ok(match (head, args) {
        ("string", None) => ValueType::String,
        ("secret", None) => ValueType::Secret,
        ("name", None) => ValueType::Name,
        ("ipv4", None) => ValueType::Ipv4,
        ("ipv4_cidr", None) => ValueType::Ipv4Cidr,
        ("ipv6", None) => ValueType::Ipv6,
        ("mac", None) => ValueType::Mac,
        ("bool", None) => ValueType::Bool,
        ("duration", None) => ValueType::Duration,
        ("int", None) => ValueType::Int {
            min: i64::MIN,
            max: i64::MAX,
        },
        ("int", Some(range)) => {
            let (lo, hi) = range
                .split_once("..")
                .ok_or_else(|| format!("int({range}): write the range as MIN..MAX"))?;
            let (min, max) = (
                lo.trim().parse().map_err(|_| format!("int({range}): {lo:?} is not a number"))?,
                hi.trim().parse().map_err(|_| format!("int({range}): {hi:?} is not a number"))?,
            );
            if min > max {
                return Err(format!("int({range}): the minimum is above the maximum"));
            }
            ValueType::Int { min, max }
        }
        ("enum", Some(list)) => {
            let values: Vec<String> = list.split('|').map(|v| v.trim().to_owned()).collect();
            if let Some(bad) = values.iter().find(|v| !is_name(v)) {
                return Err(format!(
                    "enum choice {bad:?} must be a plain word (letters, digits, . _ -)"
                ));
            }
            ValueType::Enum { values }
        }
        (other, _) => {
            return Err(format!(
                "unknown type {other:?}: use string, secret, name, ipv4, ipv4_cidr, ipv6, mac, int, int(MIN..MAX), bool, duration or enum(a|b)"
            ))
        }
    })
}

/// A user value's name, or a dotted one the push fills from the router
/// (`router.serial`) or its site (`site.name`).
fn is_placeholder_name(s: &str) -> bool {
    match s.split_once('.') {
        None => is_name(s),
        Some((scope, fact)) => {
            matches!(scope, "router" | "site") && is_name(fact) && !fact.contains('.')
        }
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

impl Template {
    /// Checks the template: placeholder syntax, types, one type per name,
    /// and that every placeholder sits somewhere it can be escaped.
    pub fn parse(source: &str) -> Result<Template, Vec<TemplateError>> {
        let (found, lex_errors) = lex::lex(source);
        // Errors in template order, each at its line and column.
        let mut errors: Vec<(usize, TemplateError)> = lex_errors
            .into_iter()
            .map(|e| {
                let (line, column) = line_column(source, e.at);
                (e.at, err(line, column, e.message))
            })
            .collect();
        let mut uses: Vec<Placeholder> = Vec::new();
        let mut types: BTreeMap<String, ValueType> = BTreeMap::new();
        for f in found {
            let (line, column) = line_column(source, f.start);
            let mut fail = |message: String| errors.push((f.start, err(line, column, message)));
            let inner = &source[f.start + 2..f.end - 2];
            let (name, ty) = match inner.split_once(':') {
                Some((n, t)) => (n.trim(), Some(t)),
                None => (inner.trim(), None),
            };
            if !is_placeholder_name(name) {
                fail(format!("placeholder name {name:?}: use letters, digits, _ and -, or router.<fact> / site.<fact> for values filled from the router or its site"));
                continue;
            }
            let declared = types.get(name).cloned();
            let ty = match (ty.map(parse_type), declared) {
                (Some(Err(e)), _) => {
                    fail(e);
                    continue;
                }
                (Some(Ok(t)), Some(d)) if t != d => {
                    fail(format!(
                        "{name} was declared as {d} before; here it says {t}"
                    ));
                    continue;
                }
                (Some(Ok(t)), _) => t,
                (None, Some(d)) => d,
                (None, None) => {
                    fail(format!(
                        "{name} needs a type where it is first used: {{{{ {name}: string }}}}"
                    ));
                    continue;
                }
            };
            types.entry(name.to_owned()).or_insert_with(|| ty.clone());
            uses.push(Placeholder {
                name: name.to_owned(),
                value_type: ty,
                line,
                column,
                context: f.context,
                span: (f.start, f.end),
            });
        }
        if errors.is_empty() {
            Ok(Template {
                source: source.to_owned(),
                uses,
            })
        } else {
            errors.sort_by_key(|(at, _)| *at);
            Err(errors.into_iter().map(|(_, e)| e).collect())
        }
    }

    /// Every placeholder use, in order.
    /// The template's text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn placeholders(&self) -> &[Placeholder] {
        &self.uses
    }

    /// Each placeholder name once, with its type, in order of first use.
    /// Whether any placeholder is filled from the router or its site, so
    /// the template renders differently for each router.
    pub fn is_per_router(&self) -> bool {
        self.uses.iter().any(|u| filled_automatically(&u.name))
    }

    pub fn parameters(&self) -> Vec<(&str, &ValueType)> {
        let mut seen = std::collections::HashSet::new();
        self.uses
            .iter()
            .filter(|u| seen.insert(u.name.as_str()))
            .map(|u| (u.name.as_str(), &u.value_type))
            .collect()
    }

    /// Renders with `values`. Every missing or invalid value is reported,
    /// at the line and column of its first use.
    pub fn render(
        &self,
        values: &BTreeMap<String, String>,
    ) -> Result<Rendered, Vec<TemplateError>> {
        let mut errors = Vec::new();
        let mut checked: BTreeMap<&str, Result<String, ()>> = BTreeMap::new();
        for u in &self.uses {
            if checked.contains_key(u.name.as_str()) {
                continue;
            }
            let result = match values.get(&u.name) {
                None => Err(format!("no value for {}", u.name)),
                Some(v) => validate(&u.value_type, v),
            };
            checked.insert(
                &u.name,
                result.map_err(|m| {
                    errors.push(err(u.line, u.column, format!("{}: {m}", u.name)));
                }),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let (mut text, mut preview) = (String::new(), String::new());
        let mut secrets = Vec::new();
        let mut at = 0;
        for u in &self.uses {
            let value = checked[u.name.as_str()].as_ref().expect("validated above");
            let shown = if u.value_type == ValueType::Secret {
                if !secrets.contains(value) {
                    secrets.push(value.clone());
                }
                MASK.to_owned()
            } else {
                value.clone()
            };
            let literal = &self.source[at..u.span.0];
            text.push_str(literal);
            preview.push_str(literal);
            text.push_str(&place(value, &u.value_type, u.context));
            preview.push_str(&place(&shown, &u.value_type, u.context));
            at = u.span.1;
        }
        text.push_str(&self.source[at..]);
        preview.push_str(&self.source[at..]);
        Ok(Rendered {
            text,
            preview,
            secrets,
        })
    }
}

/// Checks a value against its type; returns the text to place.
pub fn validate(ty: &ValueType, v: &str) -> Result<String, String> {
    if v.contains('\0') {
        return Err("contains a NUL byte, which RouterOS cannot store".into());
    }
    let bad = |what: &str| Err(format!("{v:?} is not {what}"));
    match ty {
        ValueType::String | ValueType::Secret => {
            if v.len() > 65_536 {
                return Err("is longer than 64 KiB".into());
            }
            Ok(v.to_owned())
        }
        ValueType::Name => {
            if is_name(v) {
                Ok(v.to_owned())
            } else {
                bad("a name (1 to 64 letters, digits, _ . -)")
            }
        }
        ValueType::Ipv4 => match v.parse::<net::Ipv4Addr>() {
            Ok(a) => Ok(a.to_string()),
            Err(_) => bad("an IPv4 address such as 192.168.88.1"),
        },
        ValueType::Ipv4Cidr => {
            let ok = v.split_once('/').and_then(|(a, p)| {
                let a = a.parse::<net::Ipv4Addr>().ok()?;
                let p = p.parse::<u8>().ok().filter(|p| *p <= 32)?;
                Some(format!("{a}/{p}"))
            });
            ok.map_or_else(
                || bad("an IPv4 address with prefix such as 10.0.0.1/24"),
                Ok,
            )
        }
        ValueType::Ipv6 => match v.parse::<net::Ipv6Addr>() {
            Ok(a) => Ok(a.to_string()),
            Err(_) => bad("an IPv6 address such as 2001:db8::1"),
        },
        ValueType::Mac => {
            let parts: Vec<&str> = v.split([':', '-']).collect();
            if parts.len() == 6
                && parts
                    .iter()
                    .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                Ok(parts.join(":").to_ascii_uppercase())
            } else {
                bad("a MAC address such as 48:8F:5A:01:02:03")
            }
        }
        ValueType::Int { min, max } => match v.trim().parse::<i64>() {
            Ok(n) if n >= *min && n <= *max => Ok(n.to_string()),
            Ok(_) => Err(format!("{v} is outside {min}..{max}")),
            Err(_) => bad("a whole number"),
        },
        ValueType::Bool => match v.to_ascii_lowercase().as_str() {
            "true" | "yes" => Ok("yes".into()),
            "false" | "no" => Ok("no".into()),
            _ => bad("yes or no"),
        },
        ValueType::Duration => {
            let ok = routeros_proto::value::parse_duration(v).is_some()
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'.'));
            if ok {
                Ok(v.to_owned())
            } else {
                bad("a RouterOS duration such as 30s, 1h30m or 00:05:00")
            }
        }
        ValueType::Enum { values } => {
            if values.iter().any(|c| c == v) {
                Ok(v.to_owned())
            } else {
                Err(format!("{v:?} is not one of {}", values.join(", ")))
            }
        }
    }
}

/// Escapes text for a RouterOS double-quoted string (§4.5), in that order:
/// `\` `"` `$` `?`, CR LF TAB, then other control bytes and bytes ≥ 0x80
/// as upper-case `\XX`.
pub fn escape(v: &str) -> String {
    routeros_proto::script::escape_value(v.as_bytes())
}

/// The text placed for a validated value in its context: free text in
/// script position is quoted; then one escaping per quoting level.
fn place(value: &str, ty: &ValueType, ctx: Context) -> String {
    let free = matches!(ty, ValueType::String | ValueType::Secret);
    let mut text = if ctx.in_string {
        escape(value)
    } else if free {
        format!("\"{}\"", escape(value))
    } else {
        // Allow-listed by type: nothing to escape.
        value.to_owned()
    };
    for _ in 0..ctx.script_levels {
        text = escape(&text);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn escaping_follows_the_order_of_section_4_5() {
        assert_eq!(escape(r#"a\b"c$d?e"#), r#"a\\b\"c\$d\?e"#);
        assert_eq!(escape("l1\r\nl2\tx"), "l1\\r\\nl2\\tx");
        assert_eq!(escape("\u{7}é"), "\\07\\C3\\A9");
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = Template::parse("/system identity set name={{ id: name }}\n/ip address add address={{ wan: ipv4/24 }}\n")
            .unwrap_err();
        assert_eq!((e[0].line, e[0].column), (2, 25));
        assert!(e[0].message.contains("unknown type"), "{e:?}");
        let e = Template::parse("x={{ a: int }}\ny={{ a: string }}\nz={{ b }}").unwrap_err();
        assert_eq!(e.len(), 2);
        assert!(e[0].message.contains("declared as int"));
        assert!(e[1].message.contains("needs a type"));
        let e = Template::parse("# {{ a: string }}\n").unwrap_err();
        assert!(e[0].message.contains("comment"));
        assert!(Template::parse("set comment=\"open\n").is_err());
    }

    #[test]
    fn values_are_validated_by_type() {
        let t = Template::parse(
            "/ip address add address={{ wan: ipv4_cidr }} interface={{ port: enum(ether1|ether2) }}\n/system clock set time-zone-autodetect={{ tz: bool }}\n/ip dhcp-server set lease-time={{ lease: duration }} mtu={{ mtu: int(576..9000) }}",
        )
        .unwrap();
        let good = values(&[
            ("wan", "10.0.0.2/30"),
            ("port", "ether1"),
            ("tz", "true"),
            ("lease", "1h30m"),
            ("mtu", "1500"),
        ]);
        let r = t.render(&good).unwrap();
        assert!(r.text.contains("address=10.0.0.2/30 interface=ether1"));
        assert!(r.text.contains("time-zone-autodetect=yes"));
        let mut bad = good.clone();
        bad.insert("wan".into(), "10.0.0.2/33".into());
        bad.insert("port".into(), "ether1 disabled=yes".into());
        bad.insert("mtu".into(), "9001".into());
        bad.insert("lease".into(), "1h; /system reset".into());
        bad.remove("tz");
        let e = t.render(&bad).unwrap_err();
        assert_eq!(e.len(), 5, "{e:?}");
        assert_eq!((e[0].line, e[0].column), (1, 25));
        assert!(e.iter().any(|e| e.message.contains("no value for tz")));
        assert!(e.iter().any(|e| e.message.contains("outside 576..9000")));
    }

    #[test]
    fn columns_count_characters_in_non_ascii_lines() {
        let t =
            Template::parse("/x set comment=\"Zürich — {{ a: string }}\" y={{ b: bool }}").unwrap();
        let cols: Vec<u32> = t.placeholders().iter().map(|p| p.column).collect();
        assert_eq!(cols, vec![26, 45]);
    }

    #[test]
    fn secrets_are_masked_in_the_preview_only() {
        let t = Template::parse("/user add name=tech password={{ pw: secret }}").unwrap();
        let r = t.render(&values(&[("pw", "hunter2")])).unwrap();
        assert_eq!(r.text, "/user add name=tech password=\"hunter2\"");
        assert_eq!(r.preview, "/user add name=tech password=\"********\"");
        assert_eq!(r.secrets, ["hunter2"]);
        // As an export would write a secret with a quote and a dollar in it.
        let odd = "pa\"ss$w".to_string();
        let export = "/user add name=tech password=\"pa\\\"ss\\$w\" comment=pa\"ss$w";
        assert_eq!(
            mask_secrets(export, &[odd]),
            "/user add name=tech password=\"********\" comment=********"
        );
    }

    #[test]
    fn a_secret_nested_in_scripts_is_masked_at_its_depth() {
        let t = Template::parse(
            "/x add on-event=\"/y add on-event=\\\"/user add name=t password={{ pw: secret }}\\\"\"",
        )
        .unwrap();
        assert_eq!(t.placeholders()[0].context.script_levels, 2);
        let r = t.render(&values(&[("pw", "a\"b$c\\d")])).unwrap();
        assert_ne!(r.text, r.preview);
        assert_eq!(mask_secrets(&r.text, &r.secrets), r.preview);
    }

    #[test]
    fn contexts_are_found_by_lexing() {
        let t = Template::parse(concat!(
            "/a set x={{ a: string }} y=\"pre {{ b: string }}\"\n",
            "/system scheduler add on-event=\"/log info {{ c: string }}; :log info \\\"{{ d: string }}\\\"\"\n",
            "/b set comment=\"say \\\"hi\\\" {{ e: string }}\"\n",
        ))
        .unwrap();
        let ctx: Vec<(u8, bool)> = t
            .placeholders()
            .iter()
            .map(|p| (p.context.script_levels, p.context.in_string))
            .collect();
        assert_eq!(
            ctx,
            vec![(0, false), (0, true), (1, false), (1, true), (0, true)]
        );
    }
}
