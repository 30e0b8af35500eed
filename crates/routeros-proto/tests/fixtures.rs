//! The script parser against the project's own export and script files
//! (`tests/fixtures/rsc`), written to hold what real exports hold: CRLF,
//! continuations that split values and strings (mid-word), every escape,
//! scripts nested two deep, `[ find default-name= ]`, positional and `*0`
//! items, unset properties, terse, compact and verbose-style exports, v6
//! and v7 headers, a broken upload, a UTF-8 BOM, UTF-8 text and a byte in
//! a legacy codepage. The real-world corpus is checked separately
//! (scripts/check-corpus.sh).

use std::path::PathBuf;

use routeros_proto::script::{parse, Arg, CommandKind, MenuCommand, Script, Selector, Value};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/rsc")
}

fn read(name: &str) -> Vec<u8> {
    let path = dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse_file(name: &str) -> Script {
    parse(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The top-level menu command starting on `line`.
fn at_line(s: &Script, line: u32) -> &MenuCommand {
    s.menu_commands()
        .find(|(l, _)| *l == line)
        .map(|(_, m)| m)
        .unwrap_or_else(|| panic!("no menu command on line {line}"))
}

fn lit(m: &MenuCommand, name: &str) -> Vec<u8> {
    m.arg(name)
        .and_then(Value::literal)
        .unwrap_or_else(|| panic!("no literal {name}= in {m:?}"))
}

/// The files that are not scripts at all, and where they must stop.
fn expected_error(name: &str) -> Option<(u32, u32, &'static str)> {
    match name {
        "broken-upload-boundary.rsc" => Some((7, 1, "is not a command")),
        "not-an-export-print.rsc" => Some((3, 3, "`script:` is not a command")),
        _ => None,
    }
}

#[test]
fn every_fixture_parses_and_prints_back_to_the_same_commands() {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rsc"))
        .collect();
    names.sort();
    assert!(names.len() >= 9, "{names:?}");
    for name in names {
        let bytes = read(&name);
        match (parse(&bytes), expected_error(&name)) {
            (Ok(script), None) => {
                assert!(!script.commands.is_empty(), "{name}: no commands");
                let text = script.to_text().unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(text.is_ascii(), "{name}: printed text is not ASCII");
                let back = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(
                    back.eq_ignoring_lines(&script),
                    "{name}: reads back differently"
                );
            }
            (Err(e), Some((line, column, msg))) => {
                assert_eq!((e.line, e.column), (line, column), "{name}: {e}");
                assert!(e.message.contains(msg), "{name}: {e}");
            }
            (Ok(_), Some(_)) => panic!("{name}: parsed, but must be rejected"),
            (Err(e), None) => panic!("{name}: {e}"),
        }
    }
}

#[test]
fn v6_export_with_crlf_continuations_and_selectors() {
    let s = parse_file("v6-home-router-crlf.rsc");
    assert_eq!(s.commands.len(), 16);
    // `set [ find default-name=ether1 ] name=wan` under /interface ethernet.
    let m = at_line(&s, 9);
    assert_eq!(m.api_path(), "/interface/ethernet/set");
    let Some(Selector::Find(f)) = &m.selector else {
        panic!("{m:?}")
    };
    assert_eq!(
        f.equalities().unwrap(),
        [("default-name".to_string(), b"ether1".to_vec())]
    );
    assert_eq!(lit(m, "name"), b"wan");
    // A value wrapped right after `=`, then after a space.
    let m = at_line(&s, 12);
    assert_eq!(lit(m, "channel-width"), b"20/40mhz-XC");
    assert_eq!(lit(m, "ssid"), b"Home-Net");
    assert_eq!(lit(m, "wireless-protocol"), b"802.11");
    // A quoted string wrapped in the middle, with `\$` at its end.
    assert_eq!(
        lit(at_line(&s, 16), "regexp"),
        b"^.+(youtube|googlevideo|netflix|nflxvideo|twitch|ttvnw).*$"
    );
    assert_eq!(lit(at_line(&s, 22), "network"), b"192.168.88.0");
    // `set 0 …`: an item by its position in the router's own listing.
    let m = at_line(&s, 27);
    assert_eq!(m.api_path(), "/ip/dhcp-client/set");
    assert_eq!(m.selector, Some(Selector::Number(0)));
    // A word cut in two by a continuation inside a quoted string.
    let m = at_line(&s, 31);
    assert_eq!(lit(m, "comment"), b"three failed logins");
    assert_eq!(lit(m, "src-address-list"), b"!trusted");
    assert_eq!(lit(at_line(&s, 34), "in-interface-list"), b"!LAN");
    let last = s.commands.last().unwrap();
    assert_eq!(last.line, 42);
    assert_eq!(lit(last.as_menu().unwrap(), "name"), b"home-gw");
}

#[test]
fn v7_terse_export_with_scripts_nested_two_deep() {
    let s = parse_file("v7-terse-scripts.rsc");
    assert_eq!(s.commands.len(), 8);
    // v7 dotted property names.
    let m = at_line(&s, 9);
    assert_eq!(m.api_path(), "/routing/bgp/connection/add");
    assert_eq!(lit(m, ".role"), b"ebgp");
    assert_eq!(lit(m, "local.address"), b"10.255.0.1");

    // A scheduler's on-event: `\r\n`, `\"`, `\$` and continuations.
    let on_event = lit(at_line(&s, 10), "on-event");
    assert_eq!(
        on_event,
        b":local name [/system identity get name]\r\n/system backup save name=($name . \"-nightly\") dont-encrypt=no\r\n:log info \"backup of $name saved\""
    );
    let inner = parse(&on_event).unwrap();
    assert_eq!(inner.commands.len(), 3);
    let CommandKind::Keyword(k) = &inner.commands[0].kind else {
        panic!("{inner:?}")
    };
    assert_eq!(k.keyword, "local");

    // A script whose source adds a scheduler with a script of its own.
    let source = lit(at_line(&s, 14), "source");
    let outer = parse(&source).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outer.commands.len(), 2);
    let CommandKind::Keyword(k) = &outer.commands[0].kind else {
        panic!("{outer:?}")
    };
    assert_eq!(k.keyword, "if");
    let do_block = k
        .args
        .iter()
        .find_map(|a| match a {
            Arg::Named {
                name,
                value: Value::Block(b),
            } if name == "do" => Some(b),
            _ => None,
        })
        .expect("do={…}");
    let add = do_block[0].as_menu().unwrap();
    assert_eq!(add.api_path(), "/system/scheduler/add");
    let deepest = parse(&lit(add, "on-event")).unwrap_or_else(|e| panic!("{e}"));
    let CommandKind::Keyword(k) = &deepest.commands[0].kind else {
        panic!("{deepest:?}")
    };
    assert_eq!(k.keyword, "if");
    // Escapes two levels down: `\t`, `\_`, `\?` and `\\`.
    let CommandKind::Keyword(put) = &outer.commands[1].kind else {
        panic!("{outer:?}")
    };
    let Arg::Positional(said) = &put.args[0] else {
        panic!("{put:?}")
    };
    assert_eq!(
        said.literal().unwrap(),
        b"tabs\there and spaces, a question? and \\ a backslash"
    );
}

#[test]
fn v7_wrapped_export_with_unset_properties_and_internal_ids() {
    let s = parse_file("v7-verbose-wrapped.rsc");
    let m = at_line(&s, 7);
    assert_eq!(lit(m, "name"), b"ether1");
    assert_eq!(lit(m, "tx-flow-control"), b"off");
    assert!(lit(m, "advertise").starts_with(b"10M-baseT-half,"));
    assert_eq!(lit(at_line(&s, 13), "address"), b"");
    assert_eq!(
        lit(at_line(&s, 15), "address"),
        b"10.0.0.0/8,192.168.0.0/16"
    );
    // `set *0 !idle-timeout …`: an internal id and unset properties.
    let m = at_line(&s, 18);
    assert_eq!(m.api_path(), "/ppp/profile/set");
    assert_eq!(m.selector, Some(Selector::Id("*0".into())));
    let unset: Vec<Vec<u8>> = m
        .args
        .iter()
        .filter_map(|a| match a {
            Arg::Positional(v) => v.literal(),
            _ => None,
        })
        .collect();
    assert_eq!(
        unset,
        [b"!idle-timeout".to_vec(), b"!keepalive-timeout".to_vec()]
    );
    // A menu spelt like a verb.
    assert_eq!(at_line(&s, 20).api_path(), "/system/upgrade/mirror/set");
    assert_eq!(lit(at_line(&s, 24), "name"), b"edge 5009");
}

#[test]
fn hand_written_script_with_bom_utf8_codepage_bytes_and_escapes() {
    let s = parse_file("script-provisioning-utf8-bom.rsc");
    // The BOM and the comment line are not commands; lines count as in an
    // editor.
    assert_eq!(s.commands[0].line, 2);
    let CommandKind::Keyword(k) = &s.commands[1].kind else {
        panic!("{:?}", s.commands[1])
    };
    assert_eq!(k.keyword, "global", "`global` without its colon");
    let Arg::Positional(v) = &k.args[1] else {
        panic!("{k:?}")
    };
    // `\F0\9F\93\A1`: UTF-8 spelt in hex escapes.
    assert_eq!(v.literal().unwrap(), "ap-📡-1".as_bytes());
    // A brace block with relative menus.
    let CommandKind::Block(b) = &s.commands[3].kind else {
        panic!("{:?}", s.commands[3])
    };
    let menus: Vec<String> = b
        .body
        .iter()
        .filter_map(|c| c.as_menu())
        .map(MenuCommand::api_path)
        .collect();
    assert_eq!(
        menus,
        ["/interface/bridge/add", "/interface/bridge/port/add"]
    );
    assert_eq!(
        lit(b.body[0].as_menu().unwrap(), "comment"),
        "Standort Büro".as_bytes()
    );
    // `\\\"`: an escaped backslash, then an escaped quote.
    assert_eq!(lit(at_line(&s, 13), "comment"), b"drop \\\"bad\\\" list");
    assert_eq!(lit(at_line(&s, 14), "comment"), b"drop \"bad\" list");
    assert_eq!(lit(at_line(&s, 15), "note"), b"Line one\nLine two\n");
    // A Latin-1 byte typed on an old terminal stays a byte, not mojibake;
    // and the file ends without a newline.
    let last = s.commands.last().unwrap();
    assert_eq!(last.line, 16);
    assert_eq!(lit(last.as_menu().unwrap(), "name"), b"caf\xe9-nord");
}

#[test]
fn a_broken_upload_stops_at_the_boundary_after_a_complete_export() {
    let bytes = read("broken-upload-boundary.rsc");
    let e = parse(&bytes).unwrap_err();
    assert_eq!((e.line, e.column), (7, 1));
    assert!(e.message.contains("`-----------------------------"), "{e}");
    // Everything before that line is a complete export.
    let cut = bytes.windows(2).rposition(|w| w == b"\r\n").unwrap() + 2;
    let s = parse(&bytes[..cut]).unwrap();
    assert_eq!(s.commands.len(), 2);
    assert_eq!(lit(at_line(&s, 6), "name"), b"uploaded");
}

#[test]
fn printed_settings_are_not_an_export() {
    let e = parse(&read("not-an-export-print.rsc")).unwrap_err();
    assert_eq!((e.line, e.column), (3, 3));
    assert!(
        e.to_string()
            .contains("`name:` followed by a value is how `print` shows a property"),
        "{e}"
    );
}
