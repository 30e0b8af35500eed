//! Recursive-descent parser from bytes to the script tree.
//!
//! Strings can hold `$[ … ]` substitutions that hold strings again, so
//! lexing is driven by the parser rather than done in a separate pass.

use super::lexer::{
    is_arg_name, is_command_word, is_keyword_name, is_var_byte, is_verb_at, is_word_byte, Cursor,
    Escape, Pos, Sep, KEYWORDS, ROOT_KEYWORDS, SELECTOR_VERBS,
};
use super::{
    literal_of, Arg, BlockCommand, CallCommand, CommandKind, Expr, ExprItem, Find, KeywordCommand,
    MenuCommand, Script, ScriptCommand, ScriptError, Selector, StrPart, Term, Value,
};

/// Deeper nesting than this is refused rather than risking the stack.
const MAX_DEPTH: u32 = 100;

const COMMENT_IN_COMMAND: &str =
    "a `#` comment must start a command: put it on its own line or after `;`";

pub(super) fn parse(text: &[u8]) -> Result<Script, ScriptError> {
    let mut p = Parser {
        cur: Cursor::new(text),
        depth: 0,
    };
    let commands = p.parse_body(Vec::new(), None)?;
    Ok(Script { commands })
}

struct Parser<'a> {
    cur: Cursor<'a>,
    depth: u32,
}

/// Which command the arguments being read belong to.
#[derive(Clone, Copy)]
enum Mode<'k> {
    Menu,
    Keyword(&'k str),
    Call,
}

/// What ends an expression.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExprEnd {
    /// `)`.
    Paren,
    /// `}` of an array.
    Brace,
    /// The end of the command (`where …`).
    Command,
}

/// Whether a `{ … }` argument is code (a block of commands) rather than
/// data (an array). RouterOS writes both the same way; the argument name
/// tells them apart.
pub(super) fn is_code_arg(keyword: Option<&str>, name: Option<&str>) -> bool {
    matches!(
        (keyword, name),
        (_, Some("do" | "else" | "on-error"))
            | (Some("onerror"), Some("in"))
            | (Some("retry"), Some("command"))
            | (Some("do"), None)
    )
}

fn keyword_of<'k>(mode: Mode<'k>) -> Option<&'k str> {
    match mode {
        Mode::Keyword(k) => Some(k),
        _ => None,
    }
}

fn is_terminator(b: Option<u8>) -> bool {
    matches!(b, None | Some(b'\r' | b'\n' | b';' | b'}' | b']'))
}

fn not_a_command(word: &str) -> String {
    let shown = shorten(word);
    match word.strip_suffix(':') {
        Some(name) if is_command_word(name) => format!(
            "`{shown}` is not a command: `name:` followed by a value is how `print` shows a \
             property, not script syntax"
        ),
        _ => format!(
            "`{shown}` is not a command: a command starts with a menu path (`/ip address`), \
             a command name or a `:` command"
        ),
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 40 {
        let head: String = s.chars().take(37).collect();
        format!("{head}…")
    } else {
        s.to_owned()
    }
}

/// The item selector for the first unnamed argument of an item verb.
fn make_selector(v: Value, path: &[String]) -> Selector {
    match v {
        Value::Sub(mut body)
            if body.len() == 1
                && matches!(&body[0].kind, CommandKind::Menu(m)
                    if m.path == path && m.verb == "find" && m.selector.is_none()) =>
        {
            match body.remove(0).kind {
                CommandKind::Menu(m) => Selector::Find(Find { args: m.args }),
                _ => unreachable!("checked above"),
            }
        }
        Value::Bare(b) if is_item_id(&b) => {
            Selector::Id(String::from_utf8(b).expect("checked ASCII"))
        }
        Value::Bare(b) if is_item_number(&b) => Selector::Number(
            std::str::from_utf8(&b)
                .ok()
                .and_then(|s| s.parse().ok())
                .expect("checked digits"),
        ),
        v => Selector::Value(v),
    }
}

/// `*1F`: an internal item id.
pub(super) fn is_item_id(b: &[u8]) -> bool {
    b.len() >= 2 && b.len() <= 17 && b[0] == b'*' && b[1..].iter().all(u8::is_ascii_hexdigit)
}

/// `0`, `12`: a print position, written without leading zeros.
pub(super) fn is_item_number(b: &[u8]) -> bool {
    !b.is_empty()
        && b.len() <= 9
        && b.iter().all(u8::is_ascii_digit)
        && (b[0] != b'0' || b.len() == 1)
}

impl Parser<'_> {
    fn enter(&mut self, at: Pos) -> Result<(), ScriptError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(at.err(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn unexpected(&self, at: Pos) -> ScriptError {
        match self.cur.peek() {
            None => at.err("unexpected end of file"),
            Some(b'"') => at.err("a command cannot start with a string"),
            Some(b'\\') => at.err(
                "a `\\` outside a string must end the line (line continuation); \
                 escapes are only valid inside double quotes",
            ),
            Some(b'#') => at.err(COMMENT_IN_COMMAND),
            Some(c) if c.is_ascii_graphic() => at.err(format!("unexpected `{}`", c as char)),
            Some(c) => at.err(format!("unexpected byte 0x{c:02X} outside a string")),
        }
    }

    /// Commands up to the end of input or the closing `}`/`]`, starting in
    /// menu `ctx`. Section lines change `ctx` for the rest of this body only.
    fn parse_body(
        &mut self,
        mut ctx: Vec<String>,
        closer: Option<(u8, Pos)>,
    ) -> Result<Vec<ScriptCommand>, ScriptError> {
        if let Some((_, open)) = closer {
            self.enter(open)?;
        }
        let mut out = Vec::new();
        loop {
            self.cur.skip_blank();
            let at = self.cur.pos();
            match self.cur.peek() {
                None => {
                    if let Some((c, open)) = closer {
                        let opener = if c == b'}' { '{' } else { '[' };
                        return Err(
                            open.err(format!("`{opener}` is never closed (the file ends first)"))
                        );
                    }
                    break;
                }
                Some(b'\r' | b'\n') => self.cur.bump_eol(),
                Some(b';') => self.cur.bump(),
                Some(b'#') => self.cur.skip_comment(),
                Some(c @ (b'}' | b']')) => match closer {
                    Some((want, _)) if want == c => {
                        self.cur.bump();
                        break;
                    }
                    Some((want, _)) => {
                        return Err(at.err(format!(
                            "unexpected `{}`: expected `{}`",
                            c as char, want as char
                        )))
                    }
                    None => {
                        return Err(at.err(format!(
                            "unexpected `{}` with no open `{}`",
                            c as char,
                            if c == b'}' { '{' } else { '[' }
                        )))
                    }
                },
                Some(_) => {
                    let in_sub = matches!(closer, Some((b']', _)));
                    if let Some(cmd) = self.parse_statement(&mut ctx, in_sub)? {
                        out.push(cmd);
                    }
                    self.cur.skip_blank();
                    if !is_terminator(self.cur.peek()) {
                        let at = self.cur.pos();
                        return Err(match self.cur.peek() {
                            Some(b'#' | b'\\' | b')') => self.unexpected(at),
                            _ => at.err("expected end of command"),
                        });
                    }
                }
            }
        }
        if closer.is_some() {
            self.depth -= 1;
        }
        Ok(out)
    }

    /// One command; `None` for a section line (which updates `ctx`).
    fn parse_statement(
        &mut self,
        ctx: &mut Vec<String>,
        in_sub: bool,
    ) -> Result<Option<ScriptCommand>, ScriptError> {
        let at = self.cur.pos();
        let line = at.line;
        let c = self.cur.peek().expect("caller checked");
        let kind = match c {
            b'{' => {
                self.cur.bump();
                let body = self.parse_body(ctx.clone(), Some((b'}', at)))?;
                CommandKind::Block(BlockCommand {
                    path: ctx.clone(),
                    body,
                })
            }
            b'[' | b'(' => {
                let func = if c == b'[' {
                    Value::Sub(self.parse_sub(ctx)?)
                } else {
                    Value::Paren(self.parse_paren(ctx)?)
                };
                let args = self.parse_args(ctx, Mode::Call)?;
                if args.is_empty() {
                    CommandKind::Expr(func)
                } else {
                    CommandKind::Call(CallCommand { func, args })
                }
            }
            b'$' => {
                let func = Value::Var(self.parse_var()?);
                let args = self.parse_args(ctx, Mode::Call)?;
                CommandKind::Call(CallCommand { func, args })
            }
            c if is_word_byte(c) && c != b'#' => return self.parse_word_statement(ctx, at, in_sub),
            _ => return Err(self.unexpected(at)),
        };
        Ok(Some(ScriptCommand { line, kind }))
    }

    /// A command that starts with a word: `:keyword …`, `/menu path verb …`,
    /// `relative path verb …`, or a section line. `in_sub`: directly inside
    /// `[ … ]`, where a line of words is a command, never a section line.
    fn parse_word_statement(
        &mut self,
        ctx: &mut Vec<String>,
        at: Pos,
        in_sub: bool,
    ) -> Result<Option<ScriptCommand>, ScriptError> {
        let line = at.line;
        let raw = self.cur.read_word();
        let Ok(word) = String::from_utf8(raw) else {
            return Err(at.err("a command name must be ASCII"));
        };
        if let Some(kw) = word.strip_prefix(':') {
            if !is_keyword_name(kw) {
                return Err(at.err(format!("`{}` is not a `:` command", shorten(&word))));
            }
            let args = self.parse_args(ctx, Mode::Keyword(kw))?;
            return Ok(Some(ScriptCommand {
                line,
                kind: CommandKind::Keyword(KeywordCommand {
                    keyword: kw.to_owned(),
                    args,
                }),
            }));
        }
        let (base, mut words) = if let Some(rest) = word.strip_prefix('/') {
            let mut segs = Vec::new();
            if !rest.is_empty() {
                for seg in rest.split('/') {
                    if !is_command_word(seg) {
                        return Err(at.err(format!(
                            "`{}` is not a menu path: `{}` is not a menu or command name",
                            shorten(&word),
                            shorten(seg)
                        )));
                    }
                    segs.push(seg.to_owned());
                }
            }
            (Vec::new(), segs)
        } else {
            if KEYWORDS.contains(&word.as_str())
                || (ctx.is_empty() && ROOT_KEYWORDS.contains(&word.as_str()))
            {
                let args = self.parse_args(ctx, Mode::Keyword(&word))?;
                return Ok(Some(ScriptCommand {
                    line,
                    kind: CommandKind::Keyword(KeywordCommand {
                        keyword: word,
                        args,
                    }),
                }));
            }
            // `add`, `ip`, or a relative slash path such as `system/clock/get`.
            let segs: Vec<&str> = word.split('/').collect();
            if !word.as_bytes()[0].is_ascii_lowercase()
                || !segs.iter().all(|seg| is_command_word(seg))
            {
                return Err(at.err(not_a_command(&word)));
            }
            (ctx.clone(), segs.into_iter().map(str::to_owned).collect())
        };

        // Split the words into path and verb: the first known verb ends the
        // path; words after it are arguments.
        let verb_at = |words: &[String], i: usize| {
            let mut prefix = base.clone();
            prefix.extend_from_slice(&words[..i]);
            is_verb_at(&prefix, &words[i])
        };
        let mut verb_idx = (0..words.len()).find(|&i| verb_at(&words, i));
        if let Some(i) = verb_idx {
            if i + 1 < words.len() {
                return Err(at.err(format!(
                    "`{}`: nothing may follow the command `{}` in a path",
                    shorten(&word),
                    words[i]
                )));
            }
        }
        while verb_idx.is_none() {
            let save = self.cur.clone();
            if self.cur.skip_blank() == Sep::None {
                self.cur = save;
                break;
            }
            let w = self.cur.read_word();
            let glued_next = self.cur.peek().is_some_and(|b| b"\"$[({".contains(&b));
            match std::str::from_utf8(&w) {
                Ok(s) if is_command_word(s) && !glued_next => {
                    words.push(s.to_owned());
                    if verb_at(&words, words.len() - 1) {
                        verb_idx = Some(words.len() - 1);
                    }
                }
                _ => {
                    self.cur = save;
                    break;
                }
            }
        }

        let (path, verb) = match verb_idx {
            Some(i) => {
                let verb = words.pop().expect("verb is last");
                debug_assert_eq!(words.len(), i);
                let mut path = base;
                path.extend(words);
                (path, verb)
            }
            None => {
                let save = self.cur.clone();
                self.cur.skip_blank();
                let brace_at = self.cur.pos();
                match self.cur.peek() {
                    b if is_terminator(b) && (!in_sub || words.is_empty()) => {
                        // A section line: later commands in this body use it.
                        self.cur = save;
                        let mut path = base;
                        path.extend(words);
                        *ctx = path;
                        return Ok(None);
                    }
                    Some(b'{') => {
                        self.cur.bump();
                        let mut path = base;
                        path.extend(words);
                        let body = self.parse_body(path.clone(), Some((b'}', brace_at)))?;
                        return Ok(Some(ScriptCommand {
                            line,
                            kind: CommandKind::Block(BlockCommand { path, body }),
                        }));
                    }
                    _ => {
                        // Arguments follow: take the last word as the verb.
                        self.cur = save;
                        let Some(verb) = words.pop() else {
                            return Err(at.err("expected a menu path or a command after `/`"));
                        };
                        let mut path = base;
                        path.extend(words);
                        (path, verb)
                    }
                }
            }
        };

        let mut args = self.parse_args(&path, Mode::Menu)?;
        let mut selector = None;
        if SELECTOR_VERBS.contains(&verb.as_str()) {
            if let Some(i) = args.iter().position(|a| matches!(a, Arg::Positional(_))) {
                if let Arg::Positional(v) = args.remove(i) {
                    selector = Some(make_selector(v, &path));
                }
            }
        }
        Ok(Some(ScriptCommand {
            line,
            kind: CommandKind::Menu(MenuCommand {
                path,
                verb,
                selector,
                args,
            }),
        }))
    }

    /// Arguments up to the end of the command. Substitutions and blocks in
    /// them resolve relative commands against `ctx`.
    fn parse_args(&mut self, ctx: &[String], mode: Mode<'_>) -> Result<Vec<Arg>, ScriptError> {
        let mut args = Vec::new();
        loop {
            self.cur.skip_blank();
            let at = self.cur.pos();
            let Some(c) = self.cur.peek() else { break };
            if is_terminator(Some(c)) {
                break;
            }
            if c == b'#' {
                return Err(at.err(COMMENT_IN_COMMAND));
            }
            if !is_word_byte(c) {
                let value = self.read_value(ctx, mode, None)?;
                args.push(Arg::Positional(value));
                continue;
            }
            let w = self.cur.read_word();
            if matches!(mode, Mode::Menu) && w == b"where" && !self.piece_start() {
                let expr = self.parse_expr(ctx, ExprEnd::Command, at)?;
                args.push(Arg::Where(expr));
                break;
            }
            let named = w
                .iter()
                .position(|&b| b == b'=')
                .and_then(|eq| Some((std::str::from_utf8(&w[..eq]).ok()?, eq)))
                .filter(|(name, _)| is_arg_name(name));
            match named {
                Some((name, eq)) => {
                    let rest = w[eq + 1..].to_vec();
                    let value = if !rest.is_empty() {
                        self.read_value_rest(ctx, mode, Some(name), Value::Bare(rest))?
                    } else {
                        // Exports wrap lines right after `=`; the value
                        // follows the continuation.
                        self.cur.skip_continuations();
                        if self.piece_start() {
                            self.read_value(ctx, mode, Some(name))?
                        } else {
                            Value::Bare(Vec::new())
                        }
                    };
                    args.push(Arg::Named {
                        name: name.to_owned(),
                        value,
                    });
                }
                None => {
                    let value = self.read_value_rest(ctx, mode, None, Value::Bare(w))?;
                    args.push(Arg::Positional(value));
                }
            }
        }
        Ok(args)
    }

    /// Whether a value piece starts right at the cursor.
    fn piece_start(&self) -> bool {
        self.cur
            .peek()
            .is_some_and(|b| b"\"$[({".contains(&b) || is_word_byte(b))
    }

    fn read_value(
        &mut self,
        ctx: &[String],
        mode: Mode<'_>,
        name: Option<&str>,
    ) -> Result<Value, ScriptError> {
        let first = self.read_piece(ctx, mode, name)?;
        self.read_value_rest(ctx, mode, name, first)
    }

    /// Collects pieces written back to back after `first`.
    fn read_value_rest(
        &mut self,
        ctx: &[String],
        mode: Mode<'_>,
        name: Option<&str>,
        first: Value,
    ) -> Result<Value, ScriptError> {
        let mut pieces = vec![first];
        while self.piece_start() {
            pieces.push(self.read_piece(ctx, mode, name)?);
        }
        Ok(if pieces.len() == 1 {
            pieces.pop().expect("one piece")
        } else {
            Value::Concat(pieces)
        })
    }

    fn read_piece(
        &mut self,
        ctx: &[String],
        mode: Mode<'_>,
        name: Option<&str>,
    ) -> Result<Value, ScriptError> {
        let at = self.cur.pos();
        match self.cur.peek() {
            Some(b'"') => Ok(Value::Str(self.parse_string(ctx)?)),
            Some(b'$') => Ok(Value::Var(self.parse_var()?)),
            Some(b'[') => Ok(Value::Sub(self.parse_sub(ctx)?)),
            Some(b'(') => Ok(Value::Paren(self.parse_paren(ctx)?)),
            Some(b'{') if is_code_arg(keyword_of(mode), name) => {
                self.cur.bump();
                Ok(Value::Block(
                    self.parse_body(ctx.to_vec(), Some((b'}', at)))?,
                ))
            }
            Some(b'{') => Ok(Value::Array(self.parse_array(ctx)?)),
            Some(c) if is_word_byte(c) => Ok(Value::Bare(self.cur.read_word())),
            _ => Err(self.unexpected(at)),
        }
    }

    /// A double-quoted string at the cursor, escapes decoded.
    fn parse_string(&mut self, ctx: &[String]) -> Result<Vec<StrPart>, ScriptError> {
        let open = self.cur.pos();
        self.cur.bump();
        let mut parts = Vec::new();
        let mut lit = Vec::new();
        let flush = |lit: &mut Vec<u8>, parts: &mut Vec<StrPart>| {
            if !lit.is_empty() {
                parts.push(StrPart::Lit(std::mem::take(lit)));
            }
        };
        loop {
            match self.cur.peek() {
                None => {
                    return Err(
                        open.err("unterminated string: the file ends before the closing `\"`")
                    )
                }
                Some(b'"') => {
                    self.cur.bump();
                    break;
                }
                Some(b'\\') => match self.cur.read_escape()? {
                    Escape::Byte(b) => lit.push(b),
                    Escape::Continuation => {}
                },
                Some(b'\r' | b'\n') => {
                    // A raw line break is part of the string (hand-written
                    // scripts use multi-line strings), kept byte for byte.
                    lit.extend_from_slice(self.cur.eol_bytes());
                    self.cur.bump_eol();
                }
                Some(b'$') => {
                    let at = self.cur.pos();
                    match self.cur.peek_at(1) {
                        Some(b) if is_var_byte(b) => {
                            flush(&mut lit, &mut parts);
                            self.cur.bump();
                            parts.push(StrPart::Var(self.read_var_name()));
                        }
                        Some(b'[') => {
                            flush(&mut lit, &mut parts);
                            self.cur.bump();
                            parts.push(StrPart::Sub(self.parse_sub(ctx)?));
                        }
                        Some(b'(') => {
                            flush(&mut lit, &mut parts);
                            self.cur.bump();
                            parts.push(StrPart::Expr(self.parse_paren(ctx)?));
                        }
                        _ => {
                            return Err(at.err(
                                "`$` in a string must start a variable (`$name`), `$[…]` or \
                                 `$(…)`; write `\\$` for a literal dollar sign",
                            ))
                        }
                    }
                }
                Some(_) => lit.push(self.cur.bump_raw().expect("peeked")),
            }
        }
        flush(&mut lit, &mut parts);
        Ok(parts)
    }

    fn read_var_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(b) = self.cur.peek().filter(|&b| is_var_byte(b)) {
            name.push(b as char);
            self.cur.bump();
        }
        name
    }

    /// `$name` or `$"name"` outside a string.
    fn parse_var(&mut self) -> Result<String, ScriptError> {
        let at = self.cur.pos();
        self.cur.bump();
        match self.cur.peek() {
            Some(b) if is_var_byte(b) => Ok(self.read_var_name()),
            Some(b'"') => {
                let parts = self.parse_string(&[])?;
                literal_of(&parts)
                    .and_then(|b| String::from_utf8(b).ok())
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| at.err("`$\"…\"` must name a variable with plain text"))
            }
            Some(b'[' | b'(') => Err(at.err(
                "`$[…]` and `$(…)` are only supported inside quoted strings; \
                 outside, write `[…]` or `(…)`",
            )),
            _ => Err(at.err("`$` must be followed by a variable name")),
        }
    }

    fn parse_sub(&mut self, ctx: &[String]) -> Result<Vec<ScriptCommand>, ScriptError> {
        let open = self.cur.pos();
        self.cur.bump();
        self.parse_body(ctx.to_vec(), Some((b']', open)))
    }

    fn parse_paren(&mut self, ctx: &[String]) -> Result<Expr, ScriptError> {
        let open = self.cur.pos();
        self.cur.bump();
        self.parse_expr(ctx, ExprEnd::Paren, open)
    }

    fn parse_array(&mut self, ctx: &[String]) -> Result<Expr, ScriptError> {
        let open = self.cur.pos();
        self.cur.bump();
        self.parse_expr(ctx, ExprEnd::Brace, open)
    }

    /// Expression tokens up to `end`. Inside `( )` and `{ }` line ends are
    /// whitespace; a `where` expression ends with its command.
    fn parse_expr(&mut self, ctx: &[String], end: ExprEnd, open: Pos) -> Result<Expr, ScriptError> {
        self.enter(open)?;
        let mut items = Vec::new();
        loop {
            let mut sep = self.cur.skip_blank();
            if end != ExprEnd::Command {
                while self.cur.at_eol() {
                    self.cur.bump_eol();
                    self.cur.skip_blank();
                    sep = Sep::Space;
                }
            }
            let glued = sep == Sep::None;
            let at = self.cur.pos();
            let term = match self.cur.peek() {
                None if end == ExprEnd::Command => break,
                None => {
                    let opener = if end == ExprEnd::Paren { '(' } else { '{' };
                    return Err(
                        open.err(format!("`{opener}` is never closed (the file ends first)"))
                    );
                }
                Some(b')') if end == ExprEnd::Paren => {
                    self.cur.bump();
                    break;
                }
                Some(b'}') if end == ExprEnd::Brace => {
                    self.cur.bump();
                    break;
                }
                Some(b'\r' | b'\n' | b';' | b'}' | b']') if end == ExprEnd::Command => break,
                Some(c @ (b')' | b'}' | b']')) => {
                    let want = match end {
                        ExprEnd::Paren => ')',
                        ExprEnd::Brace => '}',
                        ExprEnd::Command => 'x',
                    };
                    return Err(if end == ExprEnd::Command {
                        at.err(format!("unexpected `{}`", c as char))
                    } else {
                        at.err(format!("unexpected `{}`: expected `{want}`", c as char))
                    });
                }
                Some(b';') => {
                    self.cur.bump();
                    Term::Semi
                }
                Some(b'"') => Term::Str(self.parse_string(ctx)?),
                Some(b'$') => Term::Var(self.parse_var()?),
                Some(b'[') => Term::Sub(self.parse_sub(ctx)?),
                Some(b'(') => Term::Paren(self.parse_paren(ctx)?),
                Some(b'{') => Term::Array(self.parse_array(ctx)?),
                Some(c) if is_word_byte(c) && (c != b'#' || glued) => {
                    Term::Word(self.cur.read_word())
                }
                Some(_) => return Err(self.unexpected(at)),
            };
            items.push(ExprItem { glued, term });
        }
        self.depth -= 1;
        Ok(Expr { items })
    }
}
