//! Byte cursor with line/column tracking, line continuations, words and
//! string escapes; plus the character classes and word lists the parser and
//! the printer must agree on.

use super::ScriptError;

/// Commands (verbs) that exist in RouterOS menus. The first of these in a
/// line of words ends the menu path, except where [`MENUS_NAMED_LIKE_VERBS`]
/// says the word is a menu at that point.
pub(super) const VERBS: &[&str] = &[
    "add",
    "bandwidth-test",
    "blink",
    "cancel",
    "card-reinit",
    "check-for-updates",
    "clear",
    "comment",
    "disable",
    "downgrade",
    "edit",
    "enable",
    "export",
    "fetch",
    "find",
    "flush",
    "force-update",
    "generate-key",
    "get",
    "import",
    "install",
    "make-static",
    "monitor",
    "monitor-traffic",
    "move",
    "output",
    "ping",
    "print",
    "quit",
    "reboot",
    "release",
    "remove",
    "renew",
    "reset",
    "reset-configuration",
    "reset-counters",
    "reset-counters-all",
    "reset-mac-address",
    "run",
    "save",
    "load",
    "scan",
    "send",
    "set",
    "setup",
    "shutdown",
    "sign",
    "sniff",
    "start",
    "stop",
    "style",
    "torch",
    "traceroute",
    "uninstall",
    "unset",
    "upgrade",
];

/// Menus whose name is also a verb elsewhere, as full paths: in
/// `/system upgrade mirror` (RouterOS 6) `upgrade` is a menu, while in
/// `/system routerboard upgrade` it is the command.
pub(super) const MENUS_NAMED_LIKE_VERBS: &[&[&str]] =
    &[&["system", "upgrade"], &["tool", "mac-server", "ping"]];

/// Whether `word`, following menu path `path`, is a verb (ends the path).
pub(super) fn is_verb_at(path: &[String], word: &str) -> bool {
    VERBS.contains(&word)
        && !MENUS_NAMED_LIKE_VERBS.iter().any(|m| {
            m.len() == path.len() + 1 && m[m.len() - 1] == word && m[..path.len()] == *path
        })
}

/// Verbs whose first unnamed argument selects items (`numbers`).
pub(super) const SELECTOR_VERBS: &[&str] = &[
    "comment",
    "disable",
    "enable",
    "make-static",
    "move",
    "release",
    "remove",
    "renew",
    "reset-configuration",
    "reset-counters",
    "run",
    "set",
    "unset",
];

/// Root-level script commands that RouterOS also accepts without the colon,
/// in any menu (no menu has a command of these names).
pub(super) const KEYWORDS: &[&str] = &[
    "beep",
    "convert",
    "delay",
    "deserialize",
    "do",
    "error",
    "execute",
    "for",
    "foreach",
    "global",
    "if",
    "jobname",
    "len",
    "local",
    "nothing",
    "onerror",
    "parse",
    "pick",
    "put",
    "resolve",
    "retry",
    "return",
    "rndnum",
    "rndstr",
    "serialize",
    "toarray",
    "tobool",
    "toid",
    "toip",
    "toip6",
    "tonum",
    "tostr",
    "totime",
    "typeof",
    "while",
];

/// Script commands that are read without a colon only at the root menu:
/// inside a menu, `set`/`find` are that menu's commands.
pub(super) const ROOT_KEYWORDS: &[&str] = &["find", "log", "set", "time"];

/// Bytes that may appear in an unquoted word. Everything printable except
/// whitespace, quotes, `$`, `\`, brackets and `;` (and bytes ≥ 0x80, which
/// RouterOS takes as they are).
pub(super) fn is_word_byte(b: u8) -> bool {
    b >= 0x80 || ((0x21..=0x7e).contains(&b) && !b"\"$\\[](){};".contains(&b))
}

/// A menu or command name: `ip`, `dhcp-server`, `6to4`, `reset-counters`.
pub(super) fn is_command_word(w: &str) -> bool {
    !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !w.starts_with('-')
}

/// A property name before `=`: `name`, `default-name`, `local.address`,
/// `.role`, `numbers`.
/// A `/` may follow the first byte: RouterOS names some properties so
/// (`basic-rates-a/g`, `supported-rates-a/g` in `/interface wireless`).
pub(crate) fn is_arg_name(w: &str) -> bool {
    let mut bytes = w.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'.')
        && bytes
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' || b == b'/')
}

/// A variable name usable as `$name`.
pub(super) fn is_var_name(w: &str) -> bool {
    !w.is_empty() && w.bytes().all(is_var_byte)
}

pub(super) fn is_var_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A `:`-command name.
pub(super) fn is_keyword_name(w: &str) -> bool {
    let mut bytes = w.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Conservative "needs no quotes" test for generated values.
pub(super) fn is_plain_token(b: &[u8]) -> bool {
    !b.is_empty()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"._:/,+*@%-".contains(&c))
}

/// Where a token starts, for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pos {
    pub line: u32,
    pub col: u32,
}

impl Pos {
    pub fn err(self, message: impl Into<String>) -> ScriptError {
        ScriptError {
            line: self.line,
            column: self.col,
            message: message.into(),
        }
    }
}

/// What separated a token from the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sep {
    /// Nothing: the tokens touch.
    None,
    /// Only line continuations (`\` + newline + indentation).
    Continuation,
    /// Spaces or tabs (possibly with continuations).
    Space,
}

/// A decoded escape inside a quoted string.
pub(super) enum Escape {
    Byte(u8),
    /// `\` + newline: the string goes on after the next line's indentation.
    Continuation,
}

#[derive(Clone)]
pub(super) struct Cursor<'a> {
    src: &'a [u8],
    pos: usize,
    line: u32,
    col: u32,
}

impl<'a> Cursor<'a> {
    pub fn new(src: &'a [u8]) -> Self {
        let pos = if src.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        Cursor {
            src,
            pos,
            line: 1,
            col: 1,
        }
    }

    pub fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    pub fn peek_at(&self, n: usize) -> Option<u8> {
        self.src.get(self.pos + n).copied()
    }

    pub fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    /// Consumes one byte that is not a line end.
    pub fn bump(&mut self) {
        debug_assert!(self.eol_len() == 0);
        self.pos += 1;
        self.col += 1;
    }

    /// Length of the line end at the cursor: CRLF, LF or CR.
    pub fn eol_len(&self) -> usize {
        match (self.peek(), self.peek_at(1)) {
            (Some(b'\r'), Some(b'\n')) => 2,
            (Some(b'\r' | b'\n'), _) => 1,
            _ => 0,
        }
    }

    pub fn at_eol(&self) -> bool {
        self.eol_len() > 0
    }

    /// The line-end bytes at the cursor (empty if none).
    pub fn eol_bytes(&self) -> &'a [u8] {
        &self.src[self.pos..self.pos + self.eol_len()]
    }

    pub fn bump_eol(&mut self) {
        let n = self.eol_len();
        debug_assert!(n > 0);
        self.pos += n;
        self.line += 1;
        self.col = 1;
    }

    fn skip_indent(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.bump();
        }
    }

    /// At `\`: the number of bytes up to the line end if this backslash ends
    /// the line (trailing blanks tolerated), i.e. is a line continuation.
    fn continuation_len(&self) -> Option<usize> {
        if self.peek() != Some(b'\\') {
            return None;
        }
        let mut n = 1;
        while matches!(self.peek_at(n), Some(b' ' | b'\t')) {
            n += 1;
        }
        match self.peek_at(n) {
            None | Some(b'\r' | b'\n') => Some(n),
            _ => None,
        }
    }

    /// Consumes a continuation (`\`, line end, next line's indentation).
    fn skip_continuation(&mut self, n: usize) {
        for _ in 0..n {
            self.bump();
        }
        if self.at_eol() {
            self.bump_eol();
        }
        self.skip_indent();
    }

    /// Skips spaces, tabs and line continuations (not line ends).
    pub fn skip_blank(&mut self) -> Sep {
        let mut sep = Sep::None;
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => {
                    self.bump();
                    sep = Sep::Space;
                }
                Some(b'\\') => match self.continuation_len() {
                    Some(n) => {
                        self.skip_continuation(n);
                        if sep == Sep::None {
                            sep = Sep::Continuation;
                        }
                    }
                    None => return sep,
                },
                _ => return sep,
            }
        }
    }

    /// Skips line continuations only (what may stand between `name=` and
    /// its value in exports: `channel-width=\` + newline + `    20mhz`).
    pub fn skip_continuations(&mut self) -> bool {
        let mut any = false;
        while let Some(n) = self.continuation_len() {
            self.skip_continuation(n);
            any = true;
        }
        any
    }

    /// Skips a `#` comment up to (not including) the line end.
    pub fn skip_comment(&mut self) {
        while let Some(b) = self.peek() {
            if b == b'\r' || b == b'\n' {
                break;
            }
            self.pos += 1;
            self.col += 1;
        }
    }

    /// Reads an unquoted word (possibly empty).
    pub fn read_word(&mut self) -> Vec<u8> {
        let start = self.pos;
        while self.peek().is_some_and(is_word_byte) {
            self.bump();
        }
        self.src[start..self.pos].to_vec()
    }

    /// Reads an escape after the `\` at the cursor, inside a string.
    pub fn read_escape(&mut self) -> Result<Escape, ScriptError> {
        let at = self.pos();
        self.bump(); // the backslash
        if self.at_eol() {
            self.bump_eol();
            self.skip_indent();
            return Ok(Escape::Continuation);
        }
        let Some(c) = self.peek() else {
            return Err(at.err("unterminated string: the file ends after `\\`"));
        };
        let upper_hex = |b: Option<u8>| matches!(b, Some(b'0'..=b'9' | b'A'..=b'F'));
        if upper_hex(Some(c)) && upper_hex(self.peek_at(1)) {
            let hi = hex_val(c);
            let lo = hex_val(self.peek_at(1).unwrap_or(b'0'));
            self.bump();
            self.bump();
            return Ok(Escape::Byte(hi * 16 + lo));
        }
        let byte = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'$' => b'$',
            b'?' => b'?',
            b'_' => b' ',
            b'a' => 0x07,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'v' => 0x0b,
            _ => {
                let shown = if c.is_ascii_graphic() {
                    format!("`\\{}`", c as char)
                } else {
                    format!("`\\` followed by byte 0x{c:02X}")
                };
                return Err(at.err(format!(
                    "unknown escape {shown} in string (valid: \\\" \\\\ \\n \\r \\t \\$ \\? \\_ \\a \\b \\f \\v and \\XX with upper-case hex)"
                )));
            }
        };
        self.bump();
        Ok(Escape::Byte(byte))
    }

    /// Consumes one byte inside a string (not a line end).
    pub fn bump_raw(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.bump();
        Some(b)
    }
}

fn hex_val(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        _ => b - b'A' + 10,
    }
}
