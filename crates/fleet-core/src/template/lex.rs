//! Where each placeholder sits in a template, found by lexing it the way
//! RouterOS reads it: script; strings; strings RouterOS runs as script
//! (`on-event=`, `source=`, `lease-script=`, `:parse "…"`, …), whose
//! content is unescaped once and lexed again as script, to any depth.
//!
//! Each byte the lexer reads keeps its offset in the template, so a
//! placeholder found three strings deep is still reported at the line and
//! column the technician typed it, and replaced in place when rendered.

use super::Context;

/// Parameters whose string value RouterOS runs as script.
pub(super) const SCRIPT_PARAMS: &[&str] = &[
    "source",
    "on-event",
    "script",
    "up-script",
    "down-script",
    "test-script",
    "lease-script",
    "on-up",
    "on-down",
    "on-login",
    "on-logout",
    "on-backup",
    "on-master",
    "on-fail",
];

/// Commands whose string argument is script: `:parse "…"`, `:execute "…"`.
const SCRIPT_COMMANDS: &[&str] = &[":parse", ":execute"];

/// Deepest nesting of script strings a placeholder may sit in: every level
/// doubles the escapes around it, and nothing real goes deeper.
pub(super) const MAX_SCRIPT_LEVELS: u8 = 6;

/// A placeholder as found: its byte range in the template and its context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Found {
    pub start: usize,
    pub end: usize,
    pub context: Context,
}

/// A template error at a byte offset of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LexError {
    pub at: usize,
    pub message: String,
}

/// One byte of the script being read, and where it is in the template.
#[derive(Debug, Clone, Copy)]
struct Unit {
    b: u8,
    at: usize,
}

struct Lexer<'a> {
    source: &'a str,
    found: Vec<Found>,
    errors: Vec<LexError>,
}

/// Every placeholder with its context, in template order, or the reasons
/// some cannot be placed safely.
pub(super) fn lex(source: &str) -> (Vec<Found>, Vec<LexError>) {
    let units: Vec<Unit> = source
        .bytes()
        .enumerate()
        .map(|(at, b)| Unit { b, at })
        .collect();
    let mut lexer = Lexer {
        source,
        found: Vec::new(),
        errors: Vec::new(),
    };
    lexer.script(&units, 0);
    (lexer.found, lexer.errors)
}

impl Lexer<'_> {
    fn error(&mut self, at: usize, message: impl Into<String>) {
        self.errors.push(LexError {
            at,
            message: message.into(),
        });
    }

    /// A placeholder starting at `units[i]`; returns the index after it.
    fn placeholder(&mut self, units: &[Unit], i: usize, context: Context) -> usize {
        let start = units[i].at;
        let Some(len) = self.source[start..].find("}}") else {
            self.error(start, "{{ without a closing }}");
            return units.len();
        };
        let end = start + len + 2;
        let count = end - start;
        // Written as typed: the same bytes, one after the other. Escapes
        // inside a placeholder (`{\{`) are not a placeholder RouterOS
        // would see the same way.
        let contiguous = units.len() >= i + count
            && units[i..i + count]
                .iter()
                .enumerate()
                .all(|(k, u)| u.at == start + k);
        if !contiguous {
            self.error(start, "write a placeholder without escapes inside it");
            return (i + 2).min(units.len());
        }
        if i > 0 && units[i - 1].b == b'$' && !escaped(units, i - 1) {
            self.error(
                start,
                "a placeholder right after $ would name a variable; put the value in a string or a parameter",
            );
        } else if context.script_levels > MAX_SCRIPT_LEVELS {
            self.error(
                start,
                format!(
                    "a placeholder nested in more than {MAX_SCRIPT_LEVELS} script strings is not supported; move it out"
                ),
            );
        } else {
            self.found.push(Found {
                start,
                end,
                context,
            });
        }
        i + count
    }

    /// Script at `depth` script strings inside the template.
    fn script(&mut self, units: &[Unit], depth: u8) {
        let here = Context {
            script_levels: depth,
            in_string: false,
        };
        let (mut i, mut line_start, mut comment) = (0, 0, false);
        while i < units.len() {
            let b = units[i].b;
            if b == b'\n' {
                (line_start, comment) = (i + 1, false);
                i += 1;
                continue;
            }
            if starts_with(units, i, b"{{") {
                if comment {
                    self.error(
                        units[i].at,
                        "a placeholder in a comment is never sent; remove it",
                    );
                    i += 2;
                } else {
                    i = self.placeholder(units, i, here);
                }
                continue;
            }
            if comment {
                i += 1;
                continue;
            }
            match b {
                b'#' if units[line_start..i]
                    .iter()
                    .all(|u| u.b.is_ascii_whitespace()) =>
                {
                    comment = true;
                }
                b'\\' => i += 1,
                b'"' => {
                    let Some(close) = closing_quote(units, i + 1) else {
                        self.error(
                            units[i].at,
                            if depth == 0 {
                                "a quoted string is not closed by the end of the template"
                                    .to_owned()
                            } else {
                                format!(
                                    "a quoted string inside a script value is not closed (at this depth, write its quotes as {})",
                                    escaped_quote(depth)
                                )
                            },
                        );
                        return;
                    };
                    let content = &units[i + 1..close];
                    if opens_script(units, line_start, i) {
                        self.script(&unescape(content), depth + 1);
                    } else {
                        self.text(content, depth);
                    }
                    i = close;
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// The content of a plain string at `depth` script strings inside.
    fn text(&mut self, units: &[Unit], depth: u8) {
        let here = Context {
            script_levels: depth,
            in_string: true,
        };
        let mut i = 0;
        while i < units.len() {
            if starts_with(units, i, b"{{") {
                i = self.placeholder(units, i, here);
                continue;
            }
            match units[i].b {
                b'\\' => i += 2,
                // `$[…]` and `$(…)` in a string are run: a placeholder there
                // would be code, not text.
                b'$' if matches!(units.get(i + 1).map(|u| u.b), Some(b'[' | b'(')) => {
                    let end = substitution_end(units, i + 1);
                    if let Some(p) = (i..end).find(|&k| starts_with(units, k, b"{{")) {
                        self.error(
                            units[p].at,
                            "a placeholder inside $[…] or $(…) in a string is run as script; put it in a parameter of its own",
                        );
                    }
                    i = end;
                }
                _ => i += 1,
            }
        }
    }
}

fn starts_with(units: &[Unit], i: usize, what: &[u8]) -> bool {
    units.len() >= i + what.len()
        && units[i..i + what.len()]
            .iter()
            .zip(what)
            .all(|(u, b)| u.b == *b)
}

/// Whether `units[i]` is escaped by an odd run of backslashes before it.
fn escaped(units: &[Unit], i: usize) -> bool {
    units[..i].iter().rev().take_while(|u| u.b == b'\\').count() % 2 == 1
}

/// The index of the quote that closes a string whose content starts at
/// `from`.
fn closing_quote(units: &[Unit], from: usize) -> Option<usize> {
    let mut j = from;
    while j < units.len() {
        match units[j].b {
            b'\\' => j += 2,
            b'"' => return Some(j),
            _ => j += 1,
        }
    }
    None
}

/// The index after the `]` or `)` that closes the bracket at `open`.
fn substitution_end(units: &[Unit], open: usize) -> usize {
    let mut level = 0usize;
    let mut j = open;
    while j < units.len() {
        match units[j].b {
            b'\\' => j += 1,
            b'[' | b'(' => level += 1,
            b']' | b')' => {
                level -= 1;
                if level == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    units.len()
}

/// Whether a string starting at `units[i]` is run as script: the value
/// of a script parameter (`on-event="…"`) or the argument of `:parse` or
/// `:execute` (`[:parse "…"]`).
fn opens_script(units: &[Unit], line_start: usize, i: usize) -> bool {
    let line: Vec<u8> = units[line_start..i].iter().map(|u| u.b).collect();
    let line = String::from_utf8_lossy(&line);
    let spaced = line.ends_with(|c: char| c.is_whitespace());
    let word = line
        .trim_end()
        .rsplit(|c: char| c.is_whitespace())
        .next()
        .unwrap_or("")
        .trim_start_matches(['[', '(', '{', ';']);
    match (spaced, word.strip_suffix('=')) {
        (false, Some(param)) => SCRIPT_PARAMS.contains(&param),
        (true, _) => SCRIPT_COMMANDS.contains(&word),
        (false, None) => false,
    }
}

/// A quote as written `depth` script strings deep: `\"`, `\\\"`, …
fn escaped_quote(depth: u8) -> String {
    format!("{}\"", "\\".repeat((1usize << depth) - 1))
}

/// A string's content as RouterOS reads it: escapes decoded once. Each
/// decoded byte keeps the offset of the escape it came from.
fn unescape(units: &[Unit]) -> Vec<Unit> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(units.len());
    let mut k = 0;
    while k < units.len() {
        let u = units[k];
        if u.b != b'\\' || k + 1 == units.len() {
            out.push(u);
            k += 1;
            continue;
        }
        let next = units[k + 1].b;
        let decoded = match next {
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'_' => b' ',
            // A line continued on the next.
            b'\n' => {
                k += 2;
                continue;
            }
            a if hex(a).is_some() && units.get(k + 2).and_then(|u| hex(u.b)).is_some() => {
                let value = hex(a).unwrap_or(0) * 16 + hex(units[k + 2].b).unwrap_or(0);
                out.push(Unit {
                    b: value as u8,
                    at: u.at,
                });
                k += 3;
                continue;
            }
            other => other,
        };
        out.push(Unit {
            b: decoded,
            at: u.at,
        });
        k += 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contexts(source: &str) -> Vec<(u8, bool)> {
        let (found, errors) = lex(source);
        assert!(errors.is_empty(), "{errors:?}");
        found
            .iter()
            .map(|f| (f.context.script_levels, f.context.in_string))
            .collect()
    }

    #[test]
    fn nesting_is_followed_to_any_depth() {
        // Depth 2: a scheduler that adds a scheduler.
        assert_eq!(
            contexts(
                r#"/system scheduler add on-event="/system scheduler add on-event=\"/log info {{ a: string }}\"""#
            ),
            vec![(2, false)]
        );
        // Depth 3, in a string there.
        assert_eq!(
            contexts(
                r#"/system scheduler add on-event="/system scheduler add on-event=\"/system script add source=\\\"/log info \\\\\\\"{{ a: string }}\\\\\\\"\\\"\"""#
            ),
            vec![(3, true)]
        );
        assert_eq!(
            contexts(
                r#":global f [:parse "/log info {{ a: string }}"]; :execute ":log info \"{{ b: string }}\"""#
            ),
            vec![(1, false), (1, true)]
        );
        for param in [
            "lease-script",
            "up-script",
            "down-script",
            "test-script",
            "on-up",
        ] {
            assert_eq!(
                contexts(&format!("/x add {param}=\"/log info {{{{ a: string }}}}\"")),
                vec![(1, false)],
                "{param}"
            );
        }
    }

    #[test]
    fn offsets_are_those_of_the_template() {
        let source = r#"/x add on-event="/y add on-event=\"{{ a: string }}\"""#;
        let (found, _) = lex(source);
        assert_eq!(&source[found[0].start..found[0].end], "{{ a: string }}");
    }

    #[test]
    fn unmodelled_places_are_refused() {
        for bad in [
            r#"/x set comment="$[/log info {{ a: string }}]""#,
            r#"/x set comment="$({{ a: string }})""#,
            r#":put ${{ a: string }}"#,
            r#"/x add on-event="/y add on-event=\"/log info {{ a: string }}""#,
        ] {
            let (_, errors) = lex(bad);
            assert!(!errors.is_empty(), "{bad}");
        }
    }
}
