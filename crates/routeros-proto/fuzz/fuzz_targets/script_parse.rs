//! The RouterOS script / `/export` parser on arbitrary bytes.
//!
//! Invariants: no panic; whatever parses prints (as ASCII), the print parses
//! back to the same commands, and printing that again gives the same text.
//!
//! "The same commands" is the module's documented contract (see the
//! `script` module docs): exact, except that an unquoted word holding bytes
//! ≥ 0x80 prints quoted and reads back as a `Value::Str` with the same bytes.
//! [`quoted`] applies that one exception to the parsed tree before comparing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use routeros_proto::script::{
    parse, Arg, CommandKind, Expr, Script, ScriptCommand, Selector, StrPart, Term, Value,
};

fuzz_target!(|data: &[u8]| {
    let Ok(script) = parse(data) else {
        return;
    };
    let text = script
        .to_text()
        .unwrap_or_else(|e| panic!("a parsed script does not print: {e}"));
    assert!(text.is_ascii(), "printed text is not ASCII: {text:?}");
    let back = parse(text.as_bytes())
        .unwrap_or_else(|e| panic!("printed text does not parse: {e}\n{text}"));
    let mut expected = script.clone();
    quoted(&mut expected);
    assert!(
        back.eq_ignoring_lines(&expected),
        "printed text reads back differently\n{text}"
    );
    let again = back
        .to_text()
        .unwrap_or_else(|e| panic!("the re-parsed script does not print: {e}"));
    assert_eq!(again, text, "printing is not stable");
});

/// Turns every unquoted word with a byte ≥ 0x80 into the quoted string it
/// prints as.
fn quoted(s: &mut Script) {
    commands(&mut s.commands);
}

fn commands(cs: &mut [ScriptCommand]) {
    for c in cs {
        match &mut c.kind {
            CommandKind::Menu(m) => {
                match &mut m.selector {
                    Some(Selector::Find(f)) => args(&mut f.args),
                    Some(Selector::Value(v)) => value(v),
                    Some(Selector::Id(_) | Selector::Number(_)) | None => {}
                }
                args(&mut m.args);
            }
            CommandKind::Keyword(k) => args(&mut k.args),
            CommandKind::Call(k) => {
                value(&mut k.func);
                args(&mut k.args);
            }
            CommandKind::Block(b) => commands(&mut b.body),
            CommandKind::Expr(v) => value(v),
        }
    }
}

fn args(args: &mut [Arg]) {
    for a in args {
        match a {
            Arg::Named { value: v, .. } | Arg::Positional(v) => value(v),
            Arg::Where(e) => expr(e),
        }
    }
}

fn value(v: &mut Value) {
    match v {
        Value::Bare(b) if !b.is_ascii() => *v = Value::Str(vec![StrPart::Lit(b.clone())]),
        Value::Bare(_) | Value::Var(_) => {}
        Value::Str(p) => parts(p),
        Value::Sub(c) | Value::Block(c) => commands(c),
        Value::Paren(e) | Value::Array(e) => expr(e),
        Value::Concat(vs) => vs.iter_mut().for_each(value),
    }
}

fn parts(ps: &mut [StrPart]) {
    for p in ps {
        match p {
            StrPart::Lit(_) | StrPart::Var(_) => {}
            StrPart::Sub(c) => commands(c),
            StrPart::Expr(e) => expr(e),
        }
    }
}

fn expr(e: &mut Expr) {
    for i in &mut e.items {
        match &mut i.term {
            Term::Word(w) if !w.is_ascii() => i.term = Term::Str(vec![StrPart::Lit(w.clone())]),
            Term::Word(_) | Term::Var(_) | Term::Semi => {}
            Term::Str(p) => parts(p),
            Term::Sub(c) => commands(c),
            Term::Paren(e) | Term::Array(e) => expr(e),
        }
    }
}
