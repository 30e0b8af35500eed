//! The script parser against the corpus of real RouterOS exports and
//! import scripts, read in place (the files are not ours to ship) from
//! `$FLEETDECK_CORPUS_DIR` (scripts/check-corpus.sh). A missing corpus
//! fails: the check never passes by reading nothing.

use std::path::Path;

use corpus_check::{corpus_file, corpus_files};

use routeros_proto::script::{
    parse, Arg, CommandKind, ExprItem, MenuCommand, Script, ScriptCommand, ScriptError, Selector,
    StrPart, Term, Value,
};

/// The bytes of the file whose name starts with `number` (e.g. "001").
fn read(number: &str) -> Vec<u8> {
    std::fs::read(corpus_file(number)).expect("readable corpus file")
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

fn parse_file(number: &str) -> Script {
    parse(&read(number)).unwrap_or_else(|e| panic!("{number}: {e}"))
}

/// The top-level menu command starting on `line`.
fn at_line(s: &Script, line: u32) -> &MenuCommand {
    s.commands
        .iter()
        .find(|c| c.line == line)
        .and_then(ScriptCommand::as_menu)
        .unwrap_or_else(|| panic!("no menu command on line {line}"))
}

fn lit(m: &MenuCommand, name: &str) -> Vec<u8> {
    m.arg(name)
        .and_then(Value::literal)
        .unwrap_or_else(|| panic!("no literal {name}= in {m:?}"))
}

/// Every command in the tree, nested ones included.
fn walk<'a>(cmds: &'a [ScriptCommand], out: &mut Vec<&'a ScriptCommand>) {
    for c in cmds {
        out.push(c);
        match &c.kind {
            CommandKind::Menu(m) => {
                if let Some(Selector::Find(f)) = &m.selector {
                    walk_args(&f.args, out);
                }
                if let Some(Selector::Value(v)) = &m.selector {
                    walk_value(v, out);
                }
                walk_args(&m.args, out);
            }
            CommandKind::Keyword(k) => walk_args(&k.args, out),
            CommandKind::Call(k) => {
                walk_value(&k.func, out);
                walk_args(&k.args, out);
            }
            CommandKind::Block(b) => walk(&b.body, out),
            CommandKind::Expr(v) => walk_value(v, out),
        }
    }
}

fn walk_args<'a>(args: &'a [Arg], out: &mut Vec<&'a ScriptCommand>) {
    for a in args {
        match a {
            Arg::Named { value, .. } | Arg::Positional(value) => walk_value(value, out),
            Arg::Where(e) => walk_items(&e.items, out),
        }
    }
}

fn walk_value<'a>(v: &'a Value, out: &mut Vec<&'a ScriptCommand>) {
    match v {
        Value::Sub(c) | Value::Block(c) => walk(c, out),
        Value::Paren(e) | Value::Array(e) => walk_items(&e.items, out),
        Value::Concat(vs) => vs.iter().for_each(|v| walk_value(v, out)),
        Value::Str(parts) => walk_parts(parts, out),
        Value::Bare(_) | Value::Var(_) => {}
    }
}

fn walk_parts<'a>(parts: &'a [StrPart], out: &mut Vec<&'a ScriptCommand>) {
    for p in parts {
        match p {
            StrPart::Sub(c) => walk(c, out),
            StrPart::Expr(e) => walk_items(&e.items, out),
            StrPart::Lit(_) | StrPart::Var(_) => {}
        }
    }
}

fn walk_items<'a>(items: &'a [ExprItem], out: &mut Vec<&'a ScriptCommand>) {
    for i in items {
        match &i.term {
            Term::Sub(c) => walk(c, out),
            Term::Paren(e) | Term::Array(e) => walk_items(&e.items, out),
            Term::Str(p) => walk_parts(p, out),
            Term::Word(_) | Term::Var(_) | Term::Semi => {}
        }
    }
}

/// Literal bytes of every quoted string anywhere in an expression list.
fn item_strings(items: &[ExprItem], out: &mut Vec<Vec<u8>>) {
    for i in items {
        match &i.term {
            Term::Str(parts) => {
                if let [StrPart::Lit(b)] = parts.as_slice() {
                    out.push(b.clone());
                }
            }
            Term::Paren(e) | Term::Array(e) => item_strings(&e.items, out),
            _ => {}
        }
    }
}

/// Script values of `source=`, `on-event=`, hotspot and netwatch hooks.
fn nested_scripts(s: &Script) -> Vec<(u32, String, Vec<u8>)> {
    const SCRIPT_ARGS: &[&str] = &[
        "source",
        "on-event",
        "on-login",
        "on-logout",
        "up-script",
        "down-script",
    ];
    let mut all = Vec::new();
    walk(&s.commands, &mut all);
    let mut out = Vec::new();
    for c in all {
        let Some(m) = c.as_menu() else { continue };
        for a in &m.args {
            if let Arg::Named { name, value } = a {
                if let (true, Some(bytes)) = (SCRIPT_ARGS.contains(&name.as_str()), value.literal())
                {
                    out.push((c.line, name.clone(), bytes));
                }
            }
        }
    }
    out
}

/// Where each file must stop (not an export, or a corrupted one).
fn expected_error(name: &str) -> Option<(u32, u32, &'static str)> {
    if name.starts_with("011-") {
        // `/system default-configuration print` output: `script: #| …`.
        Some((4, 13, "`script:` is not a command"))
    } else if name.starts_with("020-") {
        // The multipart boundary an upload left after the export.
        Some((78, 1, "is not a command"))
    } else {
        None
    }
}

#[test]
fn corpus_is_complete() {
    let files = corpus_files();
    assert_eq!(
        files.len(),
        51,
        "expected the 51 corpus files, found {:?}",
        files.iter().map(|p| file_name(p)).collect::<Vec<_>>()
    );
}

#[test]
fn every_file_parses_and_prints_back_to_the_same_commands() {
    let mut failures = Vec::new();
    for path in corpus_files() {
        let name = file_name(&path);
        let bytes = std::fs::read(&path).expect("readable corpus file");
        match (parse(&bytes), expected_error(&name)) {
            (Ok(script), None) => {
                if script.commands.is_empty() {
                    failures.push(format!("{name}: no commands"));
                    continue;
                }
                let text = match script.to_text() {
                    Ok(t) => t,
                    Err(e) => {
                        failures.push(format!("{name}: {e}"));
                        continue;
                    }
                };
                assert!(text.is_ascii(), "{name}: printed text is not ASCII");
                match parse(text.as_bytes()) {
                    Ok(back) if back.eq_ignoring_lines(&script) => {}
                    Ok(_) => failures.push(format!("{name}: printed text reads back differently")),
                    Err(e) => failures.push(format!("{name}: printed text does not parse: {e}")),
                }
            }
            (Err(e), Some((line, column, msg))) => {
                if (e.line, e.column) != (line, column) || !e.message.contains(msg) {
                    failures.push(format!(
                        "{name}: expected an error at {line}:{column} containing {msg:?}, got {e}"
                    ));
                }
            }
            (Ok(_), Some(_)) => failures.push(format!("{name}: parsed, but must be rejected")),
            (Err(e), None) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn command_counts() {
    // Top-level commands. For the exports these were checked line by line
    // against an independent line-based reading of the files (section
    // lines, continuations and comments removed).
    let counts: &[(&str, usize)] = &[
        ("001", 33),
        ("002", 3),
        ("003", 84),
        ("004", 140),
        ("005", 86),
        ("006", 38),
        ("007", 126),
        ("008", 45),
        ("009", 67),
        ("012", 115),
        ("013", 215),
        ("014", 78),
        ("015", 44),
        ("021", 12),
        ("022", 83),
        ("023", 38),
        ("024", 16),
        ("025", 53),
        ("026", 51),
        ("027", 62),
        ("028", 62),
        ("029", 535),
        ("030", 86),
        ("031", 49),
        ("032", 9),
        ("033", 40),
        ("034", 20),
        ("035", 21),
        ("036", 49),
        ("037", 16),
        ("038", 16),
        ("039", 46),
        ("040", 128),
        ("041", 16),
        ("042", 223),
        ("050", 71),
        ("051", 35),
        ("052", 48),
        ("053", 7),
        ("054", 88),
        ("055", 30),
        ("056", 2),
        ("057", 4),
        ("058", 21),
        ("059", 40),
        ("060", 144),
        ("061", 5),
        ("062", 87),
        ("063", 7),
    ];
    for (number, want) in counts {
        assert_eq!(parse_file(number).commands.len(), *want, "file {number}");
    }
}

#[test]
fn export_001_find_selectors_continuations_and_numbers() {
    let s = parse_file("001");
    // Line 10: `set [ find default-name=ether1 ] name=wan` under /interface ethernet.
    let m = at_line(&s, 10);
    assert_eq!(m.api_path(), "/interface/ethernet/set");
    let Some(Selector::Find(f)) = &m.selector else {
        panic!("{m:?}")
    };
    assert_eq!(
        f.equalities().unwrap(),
        [("default-name".to_string(), b"ether1".to_vec())]
    );
    assert_eq!(lit(m, "name"), b"wan");
    // Line 6: a value wrapped right after `=` (CRLF file).
    let m = at_line(&s, 6);
    assert_eq!(lit(m, "channel-width"), b"20/40mhz-ht-above");
    assert_eq!(lit(m, "ssid"), b"Mikrotik_Home");
    // Line 33: `set 0 disabled=yes` under /ip dhcp-client.
    let m = at_line(&s, 33);
    assert_eq!(m.api_path(), "/ip/dhcp-client/set");
    assert_eq!(m.selector, Some(Selector::Number(0)));
    // Line 53: hand-edited `!block\` continuation without a space.
    let m = at_line(&s, 53);
    assert_eq!(lit(m, "src-address-list"), b"!block");
    assert_eq!(lit(m, "action"), b"add-src-to-address-list");
    // The last command.
    let last = s.commands.last().unwrap();
    assert_eq!(last.line, 63);
    assert_eq!(last.as_menu().unwrap().api_path(), "/system/clock/set");
}

#[test]
fn export_002_string_continuation_splits_a_word() {
    let s = parse_file("002");
    let m = at_line(&s, 5);
    assert_eq!(
        lit(m, "regexp"),
        b"^.+(adv|ads|dobleclick|googleads|ads.google|ad2|ads.ak.facebook|banners|adserver|adverts).*$"
    );
    // `regexp=\` + continuation + quoted value.
    assert_eq!(
        lit(at_line(&s, 7), "regexp"),
        b"^.+(whatsapp|youtube|googlevideo.com|googlevideo).*$"
    );
}

#[test]
fn not_an_export_011_is_rejected_at_line_4() {
    let e: ScriptError = parse(&read("011")).unwrap_err();
    assert_eq!((e.line, e.column), (4, 13));
    assert_eq!(
        e.to_string(),
        "line 4 column 13: `script:` is not a command: `name:` followed by a value is how \
         `print` shows a property, not script syntax"
    );
}

#[test]
fn export_020_stray_upload_boundary_is_an_error_after_a_complete_export() {
    // The file ends with `-----------------------------4318…--` and no
    // newline: an HTTP multipart boundary saved with the upload. It is not
    // script, and RouterOS's `/import` would stop there with a syntax error,
    // so the parser reports it (line 78) instead of hiding a corrupted file.
    let bytes = read("020");
    let e = parse(&bytes).unwrap_err();
    assert_eq!((e.line, e.column), (78, 1));
    assert!(
        e.message
            .contains("`-----------------------------43180658…` is not a command"),
        "{e}"
    );
    // Everything before that line is a complete export.
    let cut = bytes
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w == b"\r\n")
        .nth(76)
        .map(|(i, _)| i + 2)
        .unwrap();
    let s = parse(&bytes[..cut]).unwrap();
    assert_eq!(s.commands.len(), 36);
    let last = s.commands.last().unwrap();
    assert_eq!(last.line, 76);
    assert_eq!(last.as_menu().unwrap().api_path(), "/system/identity/set");
    assert_eq!(lit(last.as_menu().unwrap(), "name"), b"MikroTik_R1");
}

#[test]
fn nested_script_sources_decode_to_the_right_bytes() {
    // 004 line 263: `\r\n`, `\"`, `\$`, a continuation after a space and `\_`.
    let s = parse_file("004");
    let m = at_line(&s, 263);
    assert_eq!(m.api_path(), "/system/script/add");
    let src = lit(m, "source");
    let want: &[u8] = b":global date [/system clock get date]\r\n\
:global time [/system clock get time]\r\n\
:global hostname [/system identity get name]\r\n\
:global datetimestring ([:pick $date 7 11] .\".\" . [:pick $date 0 3] .\".\" . [:pick $date 4 6].\"-\".[:pick $time 0 2].\".\".[:pick $time 3 5])\r\n\
\r\n\
/export file=\"$hostname_$datetimestring.rsc\"\r\n";
    assert!(src.starts_with(want), "{}", String::from_utf8_lossy(&src));
    // …and it is a script in its own right.
    let inner = parse(&src).unwrap();
    let CommandKind::Keyword(k) = &inner.commands[0].kind else {
        panic!()
    };
    assert_eq!(k.keyword, "global");

    // 032 line 23: the continuation cuts `:global` after the colon.
    let s = parse_file("032");
    let src = lit(at_line(&s, 23), "source");
    assert!(src.starts_with(b":global replaceStringFunc\r\n\r\n:local fileNameExport \"\"\r\n"));
}

#[test]
fn nested_scripts_parse_except_the_broken_ones() {
    // Script sources are stored unparsed, so an export can carry broken
    // scripts; these are the ones in the corpus, each checked by hand.
    let known_broken: &[(&str, u32, u32, &str)] = &[
        // One `}` more than `{` (the foreach closes at line 72).
        ("012", 404, 124, "unexpected `}`"),
        ("012", 530, 89, "unexpected `}`"),
        // `"…$RequestUrl$$theScript…"`: a `$` that starts nothing.
        ("012", 1257, 41, "`$` in a string"),
        ("029", 923, 41, "`$` in a string"),
        // `} else {` without `=`, then a comment inside the braces.
        ("029", 1441, 37, "comment"),
        // `on-event=DDNSupdate` names a script instead of holding one.
        ("056", 76, 1, "`DDNSupdate` is not a command"),
    ];
    let mut parsed = 0;
    for path in corpus_files() {
        let name = file_name(&path);
        if expected_error(&name).is_some() {
            continue;
        }
        let number = &name[..3];
        let script = parse(&std::fs::read(&path).unwrap()).unwrap();
        for (line, arg, src) in nested_scripts(&script) {
            let broken = known_broken
                .iter()
                .find(|(n, l, _, _)| *n == number && *l == line);
            match (parse(&src), broken) {
                (Ok(inner), None) => {
                    parsed += 1;
                    let text = inner.to_text().unwrap();
                    assert!(
                        parse(text.as_bytes()).unwrap().eq_ignoring_lines(&inner),
                        "{name} line {line}: nested {arg}= does not round-trip"
                    );
                }
                (Err(e), Some((_, _, inner_line, msg))) => {
                    assert_eq!(e.line, *inner_line, "{name} line {line}: {e}");
                    assert!(e.message.contains(msg), "{name} line {line}: {e}");
                }
                (Ok(_), Some(_)) => {
                    panic!("{name} line {line}: expected the nested {arg}= to fail")
                }
                (Err(e), None) => panic!("{name} line {line}: nested {arg}=: {e}"),
            }
        }
    }
    assert_eq!(parsed, 69);
}

#[test]
fn escapes_and_raw_bytes() {
    // 060: `\XX` escapes spell UTF-8 emoji, deep inside a function body.
    let s = parse_file("060");
    let mut all = Vec::new();
    walk(&s.commands, &mut all);
    let mut strings = Vec::new();
    for c in &all {
        if let CommandKind::Keyword(k) = &c.kind {
            for a in &k.args {
                if let Arg::Positional(Value::Paren(e)) = a {
                    item_strings(&e.items, &mut strings);
                }
            }
        }
    }
    assert!(strings.contains(&"🧮".as_bytes().to_vec()), "abacus symbol");
    assert!(
        strings.contains(&"⏰".as_bytes().to_vec()),
        "alarm clock symbol"
    );

    // 063: `\\\"` is an escaped backslash then an escaped quote.
    let s = parse_file("063");
    assert_eq!(
        lit(at_line(&s, 6), "comment"),
        b"Drop all traffic from addresses on \\\"CountryIPBlocks\\\" address list"
    );
    assert_eq!(
        lit(at_line(&s, 8), "comment"),
        b"Drop all traffic from addresses on \"CountryIPBlocks\" address list"
    );

    // 059: raw UTF-8 inside a quoted comment stays as bytes.
    let s = parse_file("059");
    assert_eq!(
        lit(at_line(&s, 54), "comment"),
        "Permitir comunicación entre VLANs".as_bytes()
    );

    // 055: a quoted string over several raw lines.
    let s = parse_file("055");
    let m = s
        .menu_commands()
        .find(|(_, m)| m.api_path() == "/system/note/set")
        .unwrap()
        .1;
    assert_eq!(
        lit(m, "note"),
        b"MikroTik Default Configuration\nPowered by Thanos Pournaras\nhttps://thanosnm.github.io\nScripts | Failover | Backups | Monitoring\n"
    );

    // 062: a UTF-8 BOM, a raw UTF-8 comment, and line numbers as in an editor.
    let s = parse_file("062");
    assert_eq!(s.commands[0].line, 18);
    let m = s.commands[0].as_menu().unwrap();
    assert_eq!(m.api_path(), "/ip/firewall/address-list/add");
    assert_eq!(lit(m, "address"), b"31.13.69.0/24");
}

#[test]
fn paths_blocks_and_scripting() {
    // 012 (terse): the singleton `/interface wireless cap` is a section
    // line, a comment, then `set` on line 45.
    let s = parse_file("012");
    let m = at_line(&s, 45);
    assert_eq!(m.api_path(), "/interface/wireless/cap/set");
    assert!(lit(m, "interfaces").starts_with(b"wlan 2Ghz,"));
    assert_eq!(
        at_line(&s, 40).api_path(),
        "/ip/neighbor/discovery-settings/set"
    );

    // 007 and 013: menus spelt like verbs.
    let s = parse_file("007");
    assert_eq!(at_line(&s, 188).api_path(), "/tool/mac-server/ping/set");
    let s = parse_file("013");
    assert_eq!(at_line(&s, 780).api_path(), "/system/upgrade/mirror/set");

    // 034: v7 dotted property names.
    let s = parse_file("034");
    let m = s
        .menu_commands()
        .find(|(_, m)| m.api_path() == "/routing/bgp/connection/add")
        .unwrap()
        .1;
    assert_eq!(lit(m, ".role"), b"ebgp");
    assert_eq!(lit(m, "local.address"), b"20.0.0.1");
    assert_eq!(lit(m, "name"), b"toPE2");

    // 057: brace blocks with relative menus; a section line inside a loop.
    let s = parse_file("057");
    let mut all = Vec::new();
    walk(&s.commands, &mut all);
    let paths: Vec<String> = all
        .iter()
        .filter_map(|c| c.as_menu())
        .map(MenuCommand::api_path)
        .collect();
    for want in [
        "/system/leds/set",
        "/interface/ethernet/set",
        "/interface/bridge/port/remove",
        "/interface/wireless/security-profiles/set",
        "/ip/firewall/nat/remove",
        "/ip/dns/static/remove",
        "/ip/neighbor/discovery/set",
        "/tool/mac-server/mac-winbox/set",
    ] {
        assert!(paths.iter().any(|p| p == want), "{want} in {paths:?}");
    }
    let loop_set = all
        .iter()
        .find(|c| {
            c.as_menu()
                .is_some_and(|m| m.api_path() == "/ip/neighbor/discovery/set")
        })
        .unwrap();
    assert_eq!(loop_set.line, 97);

    // 053: functions, calls, and `[/terminal style …]` as a command.
    let s = parse_file("053");
    let mut all = Vec::new();
    walk(&s.commands, &mut all);
    assert!(all
        .iter()
        .filter_map(|c| c.as_menu())
        .any(|m| m.api_path() == "/terminal/style"));
    assert!(all.iter().any(|c| matches!(&c.kind, CommandKind::Call(call)
        if call.func == Value::Var("putSuccess".into()))));

    // 054: keywords without the colon, and no final newline.
    let s = parse_file("054");
    let CommandKind::Keyword(k) = &s.commands[0].kind else {
        panic!()
    };
    assert_eq!(k.keyword, "global");
}
