//! Printing the tree back as script text, and the quoting rules for values.
//!
//! Everything printed must read back as the same tree; where a hand-built
//! tree holds something that would not (a name that is not a name, a word
//! that would merge with its neighbour), printing fails instead of guessing.
//! That is the property the template compiler relies on: a user value can
//! only ever end up inside one quoted string.

use std::fmt::Write as _;

use super::lexer::{
    is_arg_name, is_command_word, is_keyword_name, is_var_byte, is_var_name, is_verb_at,
    is_word_byte, SELECTOR_VERBS,
};
use super::parser::{is_code_arg, is_item_id, is_item_number};
use super::{
    Arg, CommandKind, Expr, PrintError, Script, ScriptCommand, Selector, StrPart, Term, Value,
};

/// Quotes bytes as a RouterOS string literal that reads back as exactly
/// these bytes and nothing else: `\` `"` `$` `?` are escaped (so no `$var`
/// or `$[command]` substitution can happen, and a terminal shows no help),
/// CR, LF and TAB become `\r` `\n` `\t`, and every other control byte and
/// every byte ≥ 0x80 becomes `\XX` with upper-case hex. The result is ASCII.
pub fn quote_value(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    escape_into(&mut s, bytes, false);
    s.push('"');
    s
}

/// [`quote_value`] without the quotes: the inside of a string literal, for
/// text placed inside a string already open.
pub fn escape_value(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 8);
    escape_into(&mut s, bytes, false);
    s
}

/// Escapes `bytes` for the inside of a string. `after_var`: the bytes follow
/// a `$name`, so a leading name character must not extend the name.
fn escape_into(out: &mut String, bytes: &[u8], after_var: bool) {
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'$' => out.push_str("\\$"),
            b'?' => out.push_str("\\?"),
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            _ if i == 0 && after_var && is_var_byte(b) => {
                let _ = write!(out, "\\{b:02X}");
            }
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:02X}");
            }
        }
    }
}

pub(super) fn print_script(script: &Script) -> Result<String, PrintError> {
    let mut p = Printer { out: String::new() };
    for c in &script.commands {
        p.command(c, &[], 0, false, false)?;
        p.out.push('\n');
    }
    Ok(p.out)
}

fn err<T>(msg: impl Into<String>) -> Result<T, PrintError> {
    Err(PrintError(msg.into()))
}

/// Where a value is printed; decides when a bare word must be quoted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// After `name=`.
    Named,
    /// An unnamed argument. `menu`: of a menu command (where a bare `where`
    /// starts a filter). `head`: the first argument after a verb that is not
    /// a known verb, where a bare command word would be read as the verb.
    Positional { menu: bool, head: bool },
    /// A later piece of a [`Value::Concat`].
    Piece,
}

/// Unquoted words the parser reads back as one word: printable ASCII word
/// bytes. (Bytes ≥ 0x80 are valid in words but the output is ASCII.)
fn is_printable_word(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(|&c| c < 0x80 && is_word_byte(c))
}

/// `name=…` would be read as a named argument.
fn looks_named(b: &[u8]) -> bool {
    b.iter()
        .position(|&c| c == b'=')
        .and_then(|eq| std::str::from_utf8(&b[..eq]).ok())
        .is_some_and(is_arg_name)
}

struct Printer {
    out: String,
}

impl Printer {
    fn indent(&mut self, n: usize) {
        for _ in 0..n {
            self.out.push(' ');
        }
    }

    fn path(&mut self, path: &[String]) -> Result<(), PrintError> {
        self.out.push('/');
        for (i, seg) in path.iter().enumerate() {
            if !is_command_word(seg) || is_verb_at(&path[..i], seg) {
                return err(format!("{seg:?} is not a menu name"));
            }
            if i > 0 {
                self.out.push(' ');
            }
            self.out.push_str(seg);
        }
        Ok(())
    }

    /// One command. `in_sub`: directly inside `[ … ]`, where a verb with no
    /// arguments cannot be mistaken for a section line.
    fn command(
        &mut self,
        c: &ScriptCommand,
        ctx: &[String],
        indent: usize,
        inline: bool,
        in_sub: bool,
    ) -> Result<(), PrintError> {
        match &c.kind {
            CommandKind::Menu(m) => {
                if !is_command_word(&m.verb) {
                    return err(format!("{:?} is not a command name", m.verb));
                }
                let known = is_verb_at(&m.path, &m.verb);
                let selector_verb = SELECTOR_VERBS.contains(&m.verb.as_str());
                if !known && m.args.is_empty() && m.selector.is_none() && !in_sub {
                    return err(format!(
                        "`{}` is not a known command and, with no arguments, would read back as a menu path",
                        m.verb
                    ));
                }
                if m.selector.is_some() && !selector_verb {
                    return err(format!("`{}` takes no item selector", m.verb));
                }
                if selector_verb
                    && m.selector.is_none()
                    && m.args.iter().any(|a| matches!(a, Arg::Positional(_)))
                {
                    return err(format!(
                        "an unnamed argument of `{}` would read back as its item selector",
                        m.verb
                    ));
                }
                if !known && matches!(m.args.first(), Some(Arg::Where(_))) {
                    return err(format!(
                        "`where` cannot follow the unknown command `{}`",
                        m.verb
                    ));
                }
                self.path(&m.path)?;
                if !m.path.is_empty() {
                    self.out.push(' ');
                }
                self.out.push_str(&m.verb);
                if let Some(s) = &m.selector {
                    self.out.push(' ');
                    self.selector(s, &m.path, indent, inline)?;
                }
                self.args(&m.args, None, true, !known, &m.path, indent, inline)
            }
            CommandKind::Keyword(k) => {
                if !is_keyword_name(&k.keyword) {
                    return err(format!("{:?} is not a `:` command name", k.keyword));
                }
                self.out.push(':');
                self.out.push_str(&k.keyword);
                self.args(&k.args, Some(&k.keyword), false, false, ctx, indent, inline)
            }
            CommandKind::Call(call) => {
                match &call.func {
                    Value::Var(name) => self.var(name),
                    Value::Sub(_) | Value::Paren(_) if !call.args.is_empty() => {
                        self.value(&call.func, Slot::Piece, None, ctx, indent, inline)?
                    }
                    _ => return err("a call needs `$name`, or `[…]`/`(…)` with arguments"),
                }
                self.args(&call.args, None, false, false, ctx, indent, inline)
            }
            CommandKind::Block(b) => {
                if b.path.as_slice() != ctx {
                    self.path(&b.path)?;
                    self.out.push(' ');
                }
                self.body(&b.body, &b.path, indent, inline)
            }
            CommandKind::Expr(v) => match v {
                Value::Sub(_) | Value::Paren(_) => {
                    self.value(v, Slot::Piece, None, ctx, indent, inline)
                }
                _ => err("only `[…]` and `(…)` can stand alone as a command"),
            },
        }
    }

    /// `{ … }` holding commands: one per line, or `{ a; b }` when inline.
    fn body(
        &mut self,
        cmds: &[ScriptCommand],
        ctx: &[String],
        indent: usize,
        inline: bool,
    ) -> Result<(), PrintError> {
        if cmds.is_empty() {
            self.out.push_str("{}");
            return Ok(());
        }
        if inline {
            self.out.push_str("{ ");
            self.inline_cmds(cmds, ctx, false)?;
            self.out.push_str(" }");
        } else {
            self.out.push_str("{\n");
            for c in cmds {
                self.indent(indent + 4);
                self.command(c, ctx, indent + 4, false, false)?;
                self.out.push('\n');
            }
            self.indent(indent);
            self.out.push('}');
        }
        Ok(())
    }

    fn inline_cmds(
        &mut self,
        cmds: &[ScriptCommand],
        ctx: &[String],
        in_sub: bool,
    ) -> Result<(), PrintError> {
        for (i, c) in cmds.iter().enumerate() {
            if i > 0 {
                self.out.push_str("; ");
            }
            self.command(c, ctx, 0, true, in_sub)?;
        }
        Ok(())
    }

    fn sub(&mut self, cmds: &[ScriptCommand], ctx: &[String]) -> Result<(), PrintError> {
        if cmds.is_empty() {
            self.out.push_str("[]");
            return Ok(());
        }
        self.out.push_str("[ ");
        self.inline_cmds(cmds, ctx, true)?;
        self.out.push_str(" ]");
        Ok(())
    }

    fn selector(
        &mut self,
        s: &Selector,
        path: &[String],
        indent: usize,
        inline: bool,
    ) -> Result<(), PrintError> {
        match s {
            Selector::Find(f) => {
                self.out.push_str("[ find");
                self.args(&f.args, None, true, false, path, indent, true)?;
                self.out.push_str(" ]");
            }
            Selector::Id(id) => {
                if !is_item_id(id.as_bytes()) {
                    return err(format!("{id:?} is not an item id"));
                }
                self.out.push_str(id);
            }
            Selector::Number(n) => {
                let _ = write!(self.out, "{n}");
            }
            Selector::Value(v) => {
                // A bare word that would read back as an id or number is
                // quoted, keeping it a name.
                match v {
                    Value::Bare(b) if is_item_id(b) || is_item_number(b) => {
                        self.out.push_str(&quote_value(b))
                    }
                    _ => self.value(
                        v,
                        Slot::Positional {
                            menu: true,
                            head: false,
                        },
                        None,
                        path,
                        indent,
                        inline,
                    )?,
                }
            }
        }
        Ok(())
    }

    /// Arguments, each preceded by a space. `keyword`: the `:`-command they
    /// belong to; `menu`: they belong to a menu command; `unknown_verb`: the
    /// verb is not a known one.
    #[allow(clippy::too_many_arguments)]
    fn args(
        &mut self,
        args: &[Arg],
        keyword: Option<&str>,
        menu: bool,
        unknown_verb: bool,
        ctx: &[String],
        indent: usize,
        inline: bool,
    ) -> Result<(), PrintError> {
        for (i, a) in args.iter().enumerate() {
            self.out.push(' ');
            match a {
                Arg::Named { name, value } => {
                    if !is_arg_name(name) {
                        return err(format!("{name:?} is not a property name"));
                    }
                    self.out.push_str(name);
                    self.out.push('=');
                    self.value(
                        value,
                        Slot::Named,
                        Some((keyword, Some(name))),
                        ctx,
                        indent,
                        inline,
                    )?;
                }
                Arg::Positional(v) => {
                    let slot = Slot::Positional {
                        menu,
                        head: unknown_verb && i == 0,
                    };
                    self.value(v, slot, Some((keyword, None)), ctx, indent, inline)?;
                }
                Arg::Where(e) => {
                    if !menu {
                        return err("`where` belongs to menu commands");
                    }
                    if i + 1 != args.len() {
                        return err("`where` must be the last argument");
                    }
                    if e.items.first().is_some_and(|i| i.glued) {
                        return err("the first item of a `where` filter cannot touch `where`");
                    }
                    self.out.push_str("where");
                    self.expr(e, ctx, true)?;
                }
            }
        }
        Ok(())
    }

    fn var(&mut self, name: &str) {
        self.out.push('$');
        if is_var_name(name) {
            self.out.push_str(name);
        } else {
            self.out.push_str(&quote_value(name.as_bytes()));
        }
    }

    /// A value. `arg`: for `{ }` values, the (keyword, argument name) that
    /// decides between a code block and an array.
    fn value(
        &mut self,
        v: &Value,
        slot: Slot,
        arg: Option<(Option<&str>, Option<&str>)>,
        ctx: &[String],
        indent: usize,
        inline: bool,
    ) -> Result<(), PrintError> {
        match v {
            Value::Bare(b) => {
                let verbatim = match slot {
                    Slot::Named => b.is_empty() || is_printable_word(b),
                    Slot::Piece => is_printable_word(b),
                    Slot::Positional { menu, head } => {
                        is_printable_word(b)
                            && b[0] != b'#'
                            && !looks_named(b)
                            && !(menu && b == b"where")
                            && !(head && std::str::from_utf8(b).is_ok_and(is_command_word))
                    }
                };
                if verbatim {
                    // Only ASCII is printed verbatim.
                    self.out
                        .push_str(std::str::from_utf8(b).expect("printable ASCII"));
                } else {
                    self.out.push_str(&quote_value(b));
                }
            }
            Value::Str(parts) => self.string(parts, ctx)?,
            Value::Var(name) => self.var(name),
            Value::Sub(cmds) => self.sub(cmds, ctx)?,
            Value::Paren(e) => {
                self.out.push('(');
                self.expr(e, ctx, false)?;
                self.out.push(')');
            }
            Value::Array(e) => {
                if let Some((kw, name)) = arg {
                    if is_code_arg(kw, name) {
                        return err("this argument holds code: use a block, not an array");
                    }
                }
                self.out.push('{');
                self.expr(e, ctx, false)?;
                self.out.push('}');
            }
            Value::Block(cmds) => {
                match arg {
                    Some((kw, name)) if is_code_arg(kw, name) => {}
                    _ => return err(
                        "a code block is only valid in `do=`, `else=`, `on-error=` or after `:do`",
                    ),
                }
                self.body(cmds, ctx, indent, inline)?;
            }
            Value::Concat(pieces) => {
                let mut prev: Option<&Value> = None;
                for (i, piece) in pieces.iter().enumerate() {
                    if matches!(piece, Value::Concat(_)) {
                        return err("nested concatenation");
                    }
                    // A word with a piece glued to it is never read as a
                    // verb or as `where`, so only the other positional
                    // rules apply.
                    let slot = match slot {
                        _ if i > 0 => Slot::Piece,
                        Slot::Positional { .. } => Slot::Positional {
                            menu: false,
                            head: false,
                        },
                        other => other,
                    };
                    match (prev, piece) {
                        (Some(Value::Bare(_)), Value::Bare(_)) => {
                            return err("two unquoted words back to back would read as one")
                        }
                        (_, Value::Bare(b)) if b.is_empty() => {
                            return err("empty word inside a concatenation")
                        }
                        (_, Value::Var(name))
                            if matches!(pieces.get(i + 1), Some(Value::Bare(b))
                                if is_printable_word(b) && b.first().copied().is_some_and(is_var_byte)) =>
                        {
                            // A word printed as is, glued to a plain `$name`,
                            // would extend the name; `$"name"` ends at its
                            // quote, and reads back as the same variable and
                            // word. (A word that must be quoted needs none.)
                            self.out.push('$');
                            self.out.push_str(&quote_value(name.as_bytes()));
                        }
                        _ => self.value(piece, slot, arg, ctx, indent, inline)?,
                    }
                    prev = Some(piece);
                }
            }
        }
        Ok(())
    }

    fn string(&mut self, parts: &[StrPart], ctx: &[String]) -> Result<(), PrintError> {
        self.out.push('"');
        let mut after_var = false;
        for p in parts {
            match p {
                StrPart::Lit(b) => escape_into(&mut self.out, b, after_var),
                StrPart::Var(name) => {
                    if !is_var_name(name) {
                        return err(format!(
                            "variable {name:?} cannot be substituted inside a string"
                        ));
                    }
                    self.out.push('$');
                    self.out.push_str(name);
                }
                StrPart::Sub(cmds) => {
                    self.out.push('$');
                    self.sub(cmds, ctx)?;
                }
                StrPart::Expr(e) => {
                    self.out.push_str("$(");
                    self.expr(e, ctx, false)?;
                    self.out.push(')');
                }
            }
            after_var = matches!(p, StrPart::Var(_));
        }
        self.out.push('"');
        Ok(())
    }

    /// Expression tokens, a space before each one that is not glued.
    /// `to_end`: a `where` filter, which runs to the end of the command.
    fn expr(&mut self, e: &Expr, ctx: &[String], to_end: bool) -> Result<(), PrintError> {
        let mut prev: Option<&Term> = None;
        for (i, item) in e.items.iter().enumerate() {
            if !item.glued {
                self.out.push(' ');
            }
            match &item.term {
                Term::Word(w) => {
                    // (A variable before it is printed `$"name"`, below.)
                    let merges = item.glued && matches!(prev, Some(Term::Word(_)));
                    if merges {
                        return err("an expression word would merge with the token before it");
                    }
                    if w.first() == Some(&b'#') && !item.glued {
                        return err("an expression word cannot start with `#`");
                    }
                    if is_printable_word(w) {
                        self.out
                            .push_str(std::str::from_utf8(w).expect("printable ASCII"));
                    } else if !w.is_empty() && w.iter().all(|&c| is_word_byte(c)) {
                        // Non-ASCII: the output is ASCII, so quote it.
                        self.out.push_str(&quote_value(w));
                    } else {
                        return err(format!(
                            "{:?} is not an expression word",
                            String::from_utf8_lossy(w)
                        ));
                    }
                }
                Term::Str(parts) => self.string(parts, ctx)?,
                Term::Var(name) => {
                    // A word printed as is, glued after a plain `$name`,
                    // would extend the name; `$"name"` ends at its quote.
                    let word_follows = e.items.get(i + 1).is_some_and(|next| {
                        next.glued
                            && matches!(&next.term, Term::Word(w)
                                if is_printable_word(w) && w.first().copied().is_some_and(is_var_byte))
                    });
                    if word_follows {
                        self.out.push('$');
                        self.out.push_str(&quote_value(name.as_bytes()));
                    } else {
                        self.var(name);
                    }
                }
                Term::Sub(cmds) => self.sub(cmds, ctx)?,
                Term::Paren(inner) => {
                    self.out.push('(');
                    self.expr(inner, ctx, false)?;
                    self.out.push(')');
                }
                Term::Array(inner) => {
                    self.out.push('{');
                    self.expr(inner, ctx, false)?;
                    self.out.push('}');
                }
                Term::Semi => {
                    if to_end {
                        return err("`;` would end the `where` filter's command");
                    }
                    self.out.push(';');
                }
            }
            prev = Some(&item.term);
        }
        Ok(())
    }
}
