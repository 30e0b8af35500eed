//! RouterOS script and `/export` text: parse it into commands, print it back.
//!
//! `.rsc` files are how configuration leaves and enters a router: `/export`
//! writes them, `/import` runs them, and our template compiler will generate
//! them. This module turns such text into a typed tree of [`ScriptCommand`]s
//! with source line numbers, and prints a tree back as script text that
//! parses to the same tree. Nothing is executed and no menu tree is known:
//! the parser works from syntax plus a short list of well-known command
//! names (see "Limits" below).
//!
//! ```
//! use routeros_proto::script::{parse, CommandKind, Selector};
//!
//! let script = parse(b"/interface ethernet\nset [ find default-name=ether1 ] name=wan\n").unwrap();
//! let CommandKind::Menu(cmd) = &script.commands[0].kind else { panic!() };
//! assert_eq!(script.commands[0].line, 2);
//! assert_eq!(cmd.api_path(), "/interface/ethernet/set");
//! let Some(Selector::Find(find)) = &cmd.selector else { panic!() };
//! assert_eq!(find.equalities().unwrap(), vec![("default-name".to_string(), b"ether1".to_vec())]);
//! assert_eq!(cmd.arg("name").and_then(|v| v.literal()).as_deref(), Some(&b"wan"[..]));
//!
//! // Printing gives runnable script that reads back as the same commands.
//! let text = script.to_text().unwrap();
//! assert_eq!(text, "/interface ethernet set [ find default-name=ether1 ] name=wan\n");
//! assert!(parse(text.as_bytes()).unwrap().eq_ignoring_lines(&script));
//! ```
//!
//! # Model
//!
//! - Section lines (`/ip address`, `/ip/address`, or relative ones such as
//!   `neighbor discovery` inside a block) are not commands: they set the
//!   current menu, and every later command stores its **absolute** path.
//!   Brace blocks restore the menu they started in.
//! - Menu commands ([`MenuCommand`]) have a path, a verb, an optional item
//!   [`Selector`] (`[ find … ]`, `*1F`, `0`, a name) and [`Arg`]s.
//! - `:`-commands (`:global`, `:if`, `:foreach`, …) are [`KeywordCommand`]s
//!   with the same kind of arguments: `(…)` is an [`Expr`], `do={…}` a block
//!   of commands, `[…]` a command substitution. `$fn args` is a
//!   [`CallCommand`], `{…}` a [`BlockCommand`], a lone `[…]` an expression
//!   statement.
//! - Values are bytes ([`Value`], [`StrPart`]), since `\XX` escapes and
//!   WinBox-typed text need not be UTF-8. Quoted strings keep their `$var`
//!   and `$[…]` substitutions as separate parts, so a literal `$` (written
//!   `\$`) can never be confused with a substitution.
//! - Nested scripts in `source=`/`on-event=` values are just string values
//!   (their decoded bytes); call [`parse`] on them to look inside.
//!
//! # Limits
//!
//! Without RouterOS's menu tree, `/a b c` is split into path and verb with a
//! list of well-known verbs ([`is_verb_at`]): the first known verb ends the
//! path, except for the few menus spelt like verbs (`/system upgrade mirror`).
//! A line of words with no known verb and no arguments is a section line
//! (directly inside `[ … ]`, where a section makes no sense, it is a
//! command); with arguments, its last word is taken as the verb. Words such as
//! `global` or `if` at the start of a command are read as `:global`/`:if`
//! (RouterOS accepts them without the colon); `set`, `find` and `log` only at
//! the root menu, where no menu command of that name exists. RouterOS writes
//! code and arrays both as `{ … }`: an argument named `do`, `else` or
//! `on-error` (and `:do`'s own) is code ([`Value::Block`]), any other is data
//! ([`Value::Array`]).
//!
//! A `#` comment must start a command (its own line, or after `;`); a `#` in
//! the middle of a command is reported as an error rather than guessed at.
//! Outside strings a `\` must end the line (a continuation, which separates
//! tokens, except right after `name=` where exports wrap before the value).
//! Inside strings a raw line break is kept as part of the string (hand-written
//! scripts use multi-line strings), while `\` + line break + indentation is
//! dropped. A `$` in a string must start `$name`, `$[…]` or `$(…)`.
//!
//! Printing is exact (print → parse gives the same tree) with one exception:
//! output is ASCII, so an unquoted word holding bytes ≥ 0x80 is printed quoted
//! and reads back as a [`Value::Str`] with the same bytes.

mod compare;
mod lexer;
mod parser;
mod print;
#[cfg(test)]
mod tests;

use thiserror::Error;

pub use compare::export_commands;
pub use print::{escape_value, quote_value};

/// Parses RouterOS script or `/export` text (bytes, since exports need not be
/// UTF-8). A UTF-8 BOM, CR/LF/CRLF line ends and a missing final newline are
/// accepted. The first syntax error stops parsing, like RouterOS's own
/// parser, and is reported with its line and column.
pub fn parse(text: &[u8]) -> Result<Script, ScriptError> {
    parser::parse(text)
}

/// A parse failure at a source position. Line and column are 1-based; the
/// column counts bytes (after a leading BOM), matching how RouterOS reports
/// `syntax error (line 4 column 10)`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line} column {column}: {message}")]
pub struct ScriptError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Why a tree could not be printed. Parsed trees always print; this guards
/// hand-built trees (templates) whose names would not read back as the same
/// command, which is how injection would happen.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("cannot print script: {0}")]
pub struct PrintError(pub String);

/// A parsed script: the commands of the top level, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Script {
    pub commands: Vec<ScriptCommand>,
}

/// One command and the line it starts on. Line numbers are what `/import`
/// and the UI report errors against, so every command (also nested ones)
/// keeps its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptCommand {
    pub line: u32,
    pub kind: CommandKind,
}

/// The kinds of command a script contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandKind {
    /// A menu command such as `/ip address add …` or a relative `set …`.
    Menu(MenuCommand),
    /// A `:`-command: `:global`, `:local`, `:set`, `:if`, `:foreach`, `:put`…
    Keyword(KeywordCommand),
    /// A function call: `$putSuccess "text" info`.
    Call(CallCommand),
    /// A brace block, optionally opened on a menu path (`/ip dns { … }`).
    Block(BlockCommand),
    /// A command that is only a value: `[ /terminal style none ]`, `( … )`.
    Expr(Value),
}

/// A menu command with its absolute path, e.g. path `["ip", "address"]` and
/// verb `add`; [`MenuCommand::api_path`] gives `/ip/address/add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuCommand {
    /// Menu path from the root, resolved against the section it appeared in.
    pub path: Vec<String>,
    pub verb: String,
    /// The item an item verb (`set`, `remove`, `enable`, …) works on: its
    /// first unnamed argument. A named `numbers=` stays in `args`.
    pub selector: Option<Selector>,
    pub args: Vec<Arg>,
}

/// A `:`-command. `keyword` is stored without the colon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordCommand {
    pub keyword: String,
    pub args: Vec<Arg>,
}

/// `$name args…` calls the function stored in a variable;
/// `($array->"key") args…` calls one computed by an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallCommand {
    /// [`Value::Var`] for `$name`; a [`Value::Paren`] or [`Value::Sub`]
    /// otherwise (then with at least one argument, or it is a
    /// [`CommandKind::Expr`]).
    pub func: Value,
    pub args: Vec<Arg>,
}

/// `{ … }` or `/menu path { … }`: a scope for `:local` variables and for
/// section changes. `path` is the menu the block's relative commands use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockCommand {
    pub path: Vec<String>,
    pub body: Vec<ScriptCommand>,
}

/// One argument of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// `name=value`.
    Named { name: String, value: Value },
    /// An unnamed argument: `ether1` in `remove ether1`, `$x` in `:put $x`.
    Positional(Value),
    /// `where …` of `print`/`find`: the rest of the command, as an expression.
    Where(Expr),
}

/// Which items a `set`/`remove`/… applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `[ find … ]` in the command's own menu (what exports write for
    /// default items, e.g. `[ find default-name=ether1 ]`).
    Find(Find),
    /// An internal id such as `*1F`.
    Id(String),
    /// A `print` position such as `0`; only meaningful on the router's
    /// current listing, so it must be resolved before use over the API.
    Number(u32),
    /// Anything else: an item name (`ether1`, `"bridge"`), `$id`, a
    /// substitution into another menu…
    Value(Value),
}

/// The arguments of a `find`: property filters like `default-name=ether1`,
/// flags like `!disabled`, or a `where` expression.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Find {
    pub args: Vec<Arg>,
}

/// A value as written in the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An unquoted word: `ether1`, `10.0.0.1/24`, `!wan`, `*1F`, `yes`.
    /// May be empty only as a named value (`comment=`).
    Bare(Vec<u8>),
    /// A double-quoted string, escapes decoded, substitutions kept apart.
    Str(Vec<StrPart>),
    /// `$name`.
    Var(String),
    /// `[ … ]`: the commands whose result is the value.
    Sub(Vec<ScriptCommand>),
    /// `( … )`: an expression, kept as tokens (not evaluated).
    Paren(Expr),
    /// `{ … }` used as data (an array): `:local a {1;2}`, `({ "de"; "net" })`.
    Array(Expr),
    /// `{ … }` used as code: `do={…}`, `else={…}`, `on-error={…}`, `:do {…}`.
    Block(Vec<ScriptCommand>),
    /// Pieces written back to back, e.g. `comment~"x"` or `name="ether"$n`.
    Concat(Vec<Value>),
}

/// A piece of a quoted string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrPart {
    /// Literal bytes, escapes already decoded.
    Lit(Vec<u8>),
    /// `$name` inside the string.
    Var(String),
    /// `$[ … ]` inside the string.
    Sub(Vec<ScriptCommand>),
    /// `$( … )` inside the string.
    Expr(Expr),
}

/// An expression (`( … )`, `{ … }` data, `where …`) as a token list. It is
/// not evaluated; whether tokens touch (`name="x"` versus `name= "x"`) is
/// kept because it changes the meaning.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expr {
    pub items: Vec<ExprItem>,
}

/// One token of an [`Expr`]; `glued` is true when no whitespace precedes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprItem {
    pub glued: bool,
    pub term: Term,
}

/// The tokens of an [`Expr`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// Anything unquoted: operands (`10.0.0.0`, `true`) and operators
    /// (`=`, `!=`, `&&`, `->`, `.`), as written.
    Word(Vec<u8>),
    Str(Vec<StrPart>),
    Var(String),
    Sub(Vec<ScriptCommand>),
    Paren(Expr),
    Array(Expr),
    /// `;` between array elements.
    Semi,
}

/// Why a [`MenuCommand`] cannot be sent as one API sentence as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApiConversionError {
    /// `[ find … ]` or a print position must first be resolved to ids.
    #[error("the item selector must be resolved to ids first")]
    SelectorNeedsLookup,
    /// A variable, substitution or expression: only the router can evaluate it.
    #[error("argument {0:?} is not a literal value")]
    NotLiteral(String),
    /// The API has no unnamed arguments (other than the selector).
    #[error("unnamed arguments have no API form")]
    Positional,
    /// `where` filters map to API queries, not to command words.
    #[error("where filters have no attribute form")]
    Where,
    #[error(transparent)]
    Proto(#[from] crate::ProtoError),
}

impl Script {
    /// Same as [`parse`].
    pub fn parse(text: &[u8]) -> Result<Self, ScriptError> {
        parse(text)
    }

    /// Prints the script as RouterOS script text that [`parse`] reads back as
    /// the same commands. Every command carries its full menu path (like
    /// `/export terse`), so the output does not depend on section state;
    /// values are quoted and escaped with [`quote_value`]'s rules; the
    /// output is ASCII with LF line ends.
    pub fn to_text(&self) -> Result<String, PrintError> {
        print::print_script(self)
    }

    /// Top-level menu commands: what an export consists of.
    pub fn menu_commands(&self) -> impl Iterator<Item = (u32, &MenuCommand)> {
        self.commands.iter().filter_map(|c| match &c.kind {
            CommandKind::Menu(m) => Some((c.line, m)),
            _ => None,
        })
    }

    /// Sets every line number (also in nested blocks and substitutions) to 0,
    /// for comparing scripts by content.
    pub fn clear_lines(&mut self) {
        clear_lines_in(&mut self.commands);
    }

    /// Whether both scripts hold the same commands, whatever their lines.
    pub fn eq_ignoring_lines(&self, other: &Script) -> bool {
        let (mut a, mut b) = (self.clone(), other.clone());
        a.clear_lines();
        b.clear_lines();
        a == b
    }
}

impl ScriptCommand {
    /// The menu command, if this is one.
    pub fn as_menu(&self) -> Option<&MenuCommand> {
        match &self.kind {
            CommandKind::Menu(m) => Some(m),
            _ => None,
        }
    }
}

impl MenuCommand {
    /// The API command word, e.g. `/ip/address/add`.
    pub fn api_path(&self) -> String {
        let mut s = String::new();
        for p in &self.path {
            s.push('/');
            s.push_str(p);
        }
        s.push('/');
        s.push_str(&self.verb);
        s
    }

    /// The arguments with RouterOS 7's shorthand for grouped properties
    /// written out: an export prints `local.address=X .role=Y` for
    /// `local.address=X local.role=Y` (and `configuration.mode=ap .ssid=x`),
    /// a name starting with `.` taking the group of the property before it.
    pub fn expanded_args(&self) -> Vec<Arg> {
        let mut group: Option<String> = None;
        self.args
            .iter()
            .map(|a| match a {
                Arg::Named { name, value } => {
                    let full = match (name.strip_prefix('.'), &group) {
                        (Some(rest), Some(g)) if !rest.is_empty() => format!("{g}.{rest}"),
                        _ => name.clone(),
                    };
                    group = full
                        .rsplit_once('.')
                        .map(|(g, _)| g.to_owned())
                        .filter(|g| !g.is_empty());
                    Arg::Named {
                        name: full,
                        value: value.clone(),
                    }
                }
                other => other.clone(),
            })
            .collect()
    }

    /// The value of the named argument `name`, if given.
    pub fn arg(&self, name: &str) -> Option<&Value> {
        self.args.iter().find_map(|a| match a {
            Arg::Named { name: n, value } if n == name => Some(value),
            _ => None,
        })
    }

    /// The API command: `=name=value` for every named argument and
    /// `=numbers=` for an id or name selector. Fails when something must be
    /// resolved or evaluated first (a `find`, a variable, …).
    pub fn to_api_command(&self) -> Result<crate::Command, ApiConversionError> {
        let mut cmd = crate::Command::new(self.api_path());
        match &self.selector {
            None => {}
            Some(Selector::Id(id)) => cmd = cmd.attr("numbers", id),
            Some(Selector::Value(v)) => {
                let lit = v
                    .literal()
                    .ok_or_else(|| ApiConversionError::NotLiteral("numbers".into()))?;
                cmd = cmd.attr("numbers", lit);
            }
            Some(Selector::Find(_) | Selector::Number(_)) => {
                return Err(ApiConversionError::SelectorNeedsLookup)
            }
        }
        for a in &self.args {
            match a {
                Arg::Named { name, value } => {
                    let lit = value
                        .literal()
                        .ok_or_else(|| ApiConversionError::NotLiteral(name.clone()))?;
                    cmd = cmd.attr(name, lit);
                }
                Arg::Positional(_) => return Err(ApiConversionError::Positional),
                Arg::Where(_) => return Err(ApiConversionError::Where),
            }
        }
        cmd.to_sentence(None)?;
        Ok(cmd)
    }
}

impl Find {
    /// The filter as `property = literal` pairs when it is only that (the
    /// common `[ find default-name=ether1 ]` and `[ find where name="x" ]`
    /// forms), e.g. to look items up or to build `?name=x` API queries.
    /// `None` for negations, patterns, variables and other expressions.
    pub fn equalities(&self) -> Option<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        for a in &self.args {
            match a {
                Arg::Named { name, value } => out.push((name.clone(), value.literal()?)),
                Arg::Where(e) => {
                    // `a=b`, `a="b"`, `a=b and c=d`.
                    let mut items = e.items.iter().peekable();
                    while let Some(item) = items.next() {
                        let Term::Word(w) = &item.term else {
                            return None;
                        };
                        if w == b"and" && !out.is_empty() {
                            continue;
                        }
                        let eq = w.iter().position(|&b| b == b'=')?;
                        let name = std::str::from_utf8(&w[..eq]).ok()?;
                        if !lexer::is_arg_name(name) {
                            return None;
                        }
                        let value = if eq + 1 < w.len() {
                            w[eq + 1..].to_vec()
                        } else {
                            match items.next_if(|i| i.glued) {
                                Some(ExprItem {
                                    term: Term::Str(parts),
                                    ..
                                }) => literal_of(parts)?,
                                _ => return None,
                            }
                        };
                        if items.peek().is_some_and(|i| i.glued) {
                            return None;
                        }
                        out.push((name.to_owned(), value));
                    }
                }
                Arg::Positional(_) => return None,
            }
        }
        Some(out)
    }
}

impl Value {
    /// The bytes of a value that needs no evaluation: an unquoted word, or a
    /// quoted string without substitutions. This is what `=name=value`
    /// carries over the API.
    pub fn literal(&self) -> Option<Vec<u8>> {
        match self {
            Value::Bare(b) => Some(b.clone()),
            Value::Str(parts) => literal_of(parts),
            _ => None,
        }
    }

    /// A literal string value, always quoted when printed. Use this for any
    /// text that comes from users: it can never turn into a substitution.
    pub fn string(bytes: impl Into<Vec<u8>>) -> Value {
        let bytes = bytes.into();
        if bytes.is_empty() {
            Value::Str(Vec::new())
        } else {
            Value::Str(vec![StrPart::Lit(bytes)])
        }
    }

    /// A literal value printed unquoted when it is a plain token (letters,
    /// digits and `._:/,+*@%-`, e.g. names, addresses, numbers), quoted
    /// otherwise. Both forms mean the same to a command argument.
    pub fn text(bytes: impl Into<Vec<u8>>) -> Value {
        let bytes = bytes.into();
        if lexer::is_plain_token(&bytes) {
            Value::Bare(bytes)
        } else {
            Value::string(bytes)
        }
    }
}

/// Whether RouterOS knows `word` as a command (verb) in some menu. Path
/// splitting uses this list; see the module's "Limits".
pub fn is_known_verb(word: &str) -> bool {
    lexer::VERBS.contains(&word)
}

/// Whether `word` after menu `path` is read as the verb: a known verb, unless
/// that path names a menu spelt like a verb (`/system upgrade` in RouterOS 6,
/// `/tool mac-server ping`).
pub fn is_verb_at(path: &[String], word: &str) -> bool {
    lexer::is_verb_at(path, word)
}

fn literal_of(parts: &[StrPart]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for p in parts {
        match p {
            StrPart::Lit(b) => out.extend_from_slice(b),
            _ => return None,
        }
    }
    Some(out)
}

fn clear_lines_in(cmds: &mut [ScriptCommand]) {
    for c in cmds {
        c.line = 0;
        match &mut c.kind {
            CommandKind::Menu(m) => {
                if let Some(s) = &mut m.selector {
                    match s {
                        Selector::Find(f) => clear_lines_args(&mut f.args),
                        Selector::Value(v) => clear_lines_value(v),
                        Selector::Id(_) | Selector::Number(_) => {}
                    }
                }
                clear_lines_args(&mut m.args);
            }
            CommandKind::Keyword(k) => clear_lines_args(&mut k.args),
            CommandKind::Call(k) => {
                clear_lines_value(&mut k.func);
                clear_lines_args(&mut k.args);
            }
            CommandKind::Block(b) => clear_lines_in(&mut b.body),
            CommandKind::Expr(v) => clear_lines_value(v),
        }
    }
}

fn clear_lines_args(args: &mut [Arg]) {
    for a in args {
        match a {
            Arg::Named { value, .. } | Arg::Positional(value) => clear_lines_value(value),
            Arg::Where(e) => clear_lines_expr(e),
        }
    }
}

fn clear_lines_value(v: &mut Value) {
    match v {
        Value::Bare(_) | Value::Var(_) => {}
        Value::Str(parts) => clear_lines_parts(parts),
        Value::Sub(c) | Value::Block(c) => clear_lines_in(c),
        Value::Paren(e) | Value::Array(e) => clear_lines_expr(e),
        Value::Concat(vs) => vs.iter_mut().for_each(clear_lines_value),
    }
}

fn clear_lines_parts(parts: &mut [StrPart]) {
    for p in parts {
        match p {
            StrPart::Lit(_) | StrPart::Var(_) => {}
            StrPart::Sub(c) => clear_lines_in(c),
            StrPart::Expr(e) => clear_lines_expr(e),
        }
    }
}

fn clear_lines_expr(e: &mut Expr) {
    for i in &mut e.items {
        match &mut i.term {
            Term::Word(_) | Term::Var(_) | Term::Semi => {}
            Term::Str(p) => clear_lines_parts(p),
            Term::Sub(c) => clear_lines_in(c),
            Term::Paren(e) | Term::Array(e) => clear_lines_expr(e),
        }
    }
}
