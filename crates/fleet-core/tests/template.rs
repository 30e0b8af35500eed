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

/// Scripts inside scripts, two and three deep, and every property RouterOS
/// runs as script: a value placed there comes back as literal text when
/// each nested script is parsed in turn, as RouterOS would run it.
const NESTED: &str = r#"/system scheduler add name=d2 on-event="/system scheduler add name=i on-event=\"/log info {{ note: string }}\""
/system scheduler add name=d3 on-event="/system scheduler add name=i on-event=\"/system script add name=j source=\\\"/log info \\\\\\\"{{ note }}\\\\\\\"\\\"\""
/ip dhcp-server add name=x lease-script="/log info {{ note }}"
/tool netwatch add host=10.0.0.1 up-script="/log info {{ note }}"
/tool netwatch add host=10.0.0.2 down-script="/log info {{ note }}"
/tool netwatch add host=10.0.0.3 test-script="/log info {{ note }}"
/ppp profile add name=p on-up="/log info {{ note }}" on-down="/log info {{ note }}"
/ip hotspot user profile add name=h on-login="/log info {{ note }}" on-logout="/log info {{ note }}"
/interface vrrp add name=v on-master="/log info {{ note }}" on-backup="/log info {{ note }}"
/ip dhcp-client add interface=ether1 script="/log info {{ note }}"
/system script add name=s source=":global f [:parse \"/log info \\\"{{ note }}\\\"\"]; :execute \":log info {{ note }}\""
"#;

const SCRIPT_PROPERTIES: &[&str] = &[
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
];

/// Every literal a command leaves once each nested script is run: script
/// properties and `:parse`/`:execute` arguments are parsed and walked.
fn leaves(cmd: &ScriptCommand, out: &mut Vec<Vec<u8>>) {
    let args = match &cmd.kind {
        CommandKind::Menu(m) => &m.args,
        CommandKind::Keyword(k) => {
            if matches!(k.keyword.as_str(), "parse" | "execute") {
                for a in &k.args {
                    if let Arg::Positional(v) = a {
                        leaves_of_script(&literal(v), out);
                    }
                }
                return;
            }
            &k.args
        }
        CommandKind::Expr(v) => return leaves_of_value(v, out),
        other => panic!("unexpected command {other:?}"),
    };
    for a in args {
        match a {
            Arg::Named { name, value } if SCRIPT_PROPERTIES.contains(&name.as_str()) => {
                leaves_of_script(&literal(value), out)
            }
            Arg::Named { value, .. } | Arg::Positional(value) => leaves_of_value(value, out),
            Arg::Where(_) => {}
        }
    }
}

fn leaves_of_value(v: &Value, out: &mut Vec<Vec<u8>>) {
    match v {
        Value::Sub(cmds) => cmds.iter().for_each(|c| leaves(c, out)),
        other => out.push(literal(other)),
    }
}

fn leaves_of_script(source: &[u8], out: &mut Vec<Vec<u8>>) {
    let parsed = script::parse(source).unwrap_or_else(|e| {
        panic!(
            "nested script does not parse: {e}: {}",
            String::from_utf8_lossy(source)
        )
    });
    parsed.commands.iter().for_each(|c| leaves(c, out));
}

fn nested_round_trip(note: &str) {
    let t = Template::parse(NESTED).unwrap();
    let depths: Vec<u8> = t
        .placeholders()
        .iter()
        .map(|p| p.context.script_levels)
        .collect();
    assert_eq!(depths[..2], [2, 3], "the first two are two and three deep");
    let values: BTreeMap<String, String> = [("note".to_owned(), note.to_owned())].into();
    let rendered = t.render(&values).unwrap();
    let parsed = script::parse(rendered.text.as_bytes())
        .unwrap_or_else(|e| panic!("rendered script does not parse: {e}\n{}", rendered.text));
    assert_eq!(parsed.commands.len(), 11, "{}", rendered.text);
    let expected_uses = [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 2];
    // The template's own words can equal a short value ("v"): those are
    // counted with a value that cannot be one of them, and added.
    let sentinel: BTreeMap<String, String> =
        [("note".to_owned(), "\u{2603}sentinel\u{2603}".to_owned())].into();
    let plain = t.render(&sentinel).unwrap();
    let plain = script::parse(plain.text.as_bytes()).unwrap();
    for ((cmd, uses), base) in parsed
        .commands
        .iter()
        .zip(expected_uses)
        .zip(&plain.commands)
    {
        let count = |c: &script::ScriptCommand| {
            let mut out = Vec::new();
            leaves(c, &mut out);
            out.iter()
                .filter(|l| l.as_slice() == note.as_bytes())
                .count()
        };
        let mut out = Vec::new();
        leaves(cmd, &mut out);
        let found = count(cmd);
        let uses = uses + count(base);
        assert_eq!(
            found,
            uses,
            "line {}: {note:?} should come back {uses} time(s) as literal text; leaves: {:?}",
            cmd.line,
            out.iter()
                .map(|l| String::from_utf8_lossy(l))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn hostile_values_two_and_three_scripts_deep_never_execute() {
    for note in [
        "$[/system reset-configuration no-defaults=yes]",
        "\"; /system reset-configuration; \"",
        "\\\"$[/system reboot]\\\"",
        "\\\\\\\"; /system reboot; :put \\\\\\\"",
        "a\nb\r\n/system reboot\n",
        "?help $x $(1+1) $\"var\" ${x}",
        "ünïcödé ✓ — 日本語",
        "",
        // As short as a word of the template itself (found by the
        // property test below).
        "v",
    ] {
        nested_round_trip(note);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn any_text_round_trips_at_any_depth(note in "[^\u{0}]{0,40}") {
        nested_round_trip(&note);
    }
}

#[test]
fn a_placeholder_where_the_renderer_cannot_escape_it_is_refused_with_its_place() {
    for (template, line, column) in [
        (
            "/x set comment=ok\n/x set comment=\"$[/log info {{ a: string }}]\"\n",
            2,
            29,
        ),
        ("/x set comment=\"$({{ a: string }})\"", 1, 19),
        (":put ${{ a: string }}", 1, 7),
    ] {
        let e = Template::parse(template).unwrap_err();
        assert_eq!(
            (e[0].line, e[0].column),
            (line, column),
            "{template}: {e:?}"
        );
    }
}
