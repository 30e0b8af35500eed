//! Hostile values never execute and round-trip exactly: every rendered
//! script is read back with the RouterOS script parser, including the
//! scripts nested in `on-event=` and `source=`, and each value must come
//! back byte for byte as literal text, with no substitution anywhere.

use std::collections::BTreeMap;

use fleet_core::template::Template;
use proptest::prelude::*;
use routeros_proto::script::{self, Arg, CommandKind, ScriptCommand, StrPart, Value};

const TEMPLATE: &str = r#"/system identity set name={{ id: name }}
/interface ethernet set [ find default-name=ether1 ] comment={{ note: string }}
/interface ethernet set [ find default-name=ether2 ] comment="site: {{ note }}"
/system scheduler add name=hello on-event="/log info {{ note }}"
/system script add name=s source="/interface set ether1 comment=\"{{ note }}\""
"#;

/// The literal bytes of a value; any substitution, variable or expression
/// in it means a value escaped into code.
fn literal(v: &Value) -> Vec<u8> {
    match v {
        Value::Bare(b) => b.clone(),
        Value::Str(parts) => parts
            .iter()
            .flat_map(|p| match p {
                StrPart::Lit(b) => b.clone(),
                other => panic!("a value became code: {other:?}"),
            })
            .collect(),
        other => panic!("a value became code: {other:?}"),
    }
}

fn named<'a>(cmd: &'a ScriptCommand, name: &str) -> &'a Value {
    let CommandKind::Menu(m) = &cmd.kind else {
        panic!("not a menu command: {cmd:?}")
    };
    m.args
        .iter()
        .find_map(|a| match a {
            Arg::Named { name: n, value } if n == name => Some(value),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{name}= missing in {m:?}"))
}

/// The one string argument of a nested script's only command.
fn nested_string(source: &[u8]) -> Vec<u8> {
    let inner = script::parse(source).unwrap_or_else(|e| {
        panic!(
            "nested script does not parse: {e}: {}",
            String::from_utf8_lossy(source)
        )
    });
    assert_eq!(inner.commands.len(), 1, "one command: {inner:?}");
    let CommandKind::Menu(m) = &inner.commands[0].kind else {
        panic!("not a menu command: {inner:?}")
    };
    let strings: Vec<Vec<u8>> = m
        .args
        .iter()
        .filter_map(|a| match a {
            Arg::Named { value, .. } | Arg::Positional(value) => Some(value),
            Arg::Where(_) => None,
        })
        .map(literal)
        .filter(|v| v != b"ether1")
        .collect();
    assert_eq!(strings.len(), 1, "{m:?}");
    strings[0].clone()
}

fn round_trip(note: &str) {
    let t = Template::parse(TEMPLATE).unwrap();
    let values: BTreeMap<String, String> = [("id", "core-1"), ("note", note)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let rendered = t.render(&values).unwrap();
    let parsed = script::parse(rendered.text.as_bytes())
        .unwrap_or_else(|e| panic!("rendered script does not parse: {e}\n{}", rendered.text));
    assert_eq!(parsed.commands.len(), 5, "{}", rendered.text);
    let c = &parsed.commands;
    assert_eq!(literal(named(&c[0], "name")), b"core-1");
    assert_eq!(literal(named(&c[1], "comment")), note.as_bytes());
    assert_eq!(
        literal(named(&c[2], "comment")),
        [b"site: ".as_slice(), note.as_bytes()].concat()
    );
    assert_eq!(
        nested_string(&literal(named(&c[3], "on-event"))),
        note.as_bytes()
    );
    assert_eq!(
        nested_string(&literal(named(&c[4], "source"))),
        note.as_bytes()
    );
}

#[test]
fn hostile_values_never_execute_and_round_trip_exactly() {
    let long = "x\"$[/system reboot]\\".repeat(2_000);
    for note in [
        "$[/system reset-configuration no-defaults=yes]",
        "\"; /system reset-configuration; \"",
        "\\\"$[/system reboot]\\\"",
        "a\nb\r\n/system reboot\n",
        "tab\there \\_ and \\\\ and \\",
        "?help $x $(1+1) $\"var\" ${x}",
        "ünïcödé ✓ — 日本語",
        "\u{1}\u{7f}\u{1b}[31m",
        "{{ not a placeholder }}",
        "",
        &long,
    ] {
        round_trip(note);
    }
}

#[test]
fn nul_is_refused_and_nothing_is_rendered() {
    let t = Template::parse(TEMPLATE).unwrap();
    let values: BTreeMap<String, String> = [("id", "core-1"), ("note", "a\0b")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let e = t.render(&values).unwrap_err();
    assert!(e[0].message.contains("NUL"), "{e:?}");
    assert_eq!(e[0].line, 2);
}

#[test]
fn a_name_with_spaces_or_quotes_is_refused_not_escaped() {
    let t = Template::parse(TEMPLATE).unwrap();
    for id in ["core 1", "x\"y", "a;b", "$x", ""] {
        let values: BTreeMap<String, String> = [("id", id), ("note", "n")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert!(t.render(&values).is_err(), "{id:?} accepted as a name");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn any_text_without_nul_round_trips(note in "[^\u{0}]{0,80}") {
        round_trip(&note);
    }
}
