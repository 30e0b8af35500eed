use super::*;

fn p(text: &str) -> Script {
    parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n--- input ---\n{text}"))
}

fn perr(text: &str) -> ScriptError {
    parse(text.as_bytes()).expect_err("expected a parse error")
}

/// Parses, prints, parses the print, and checks both trees are equal.
fn roundtrip(text: &str) -> Script {
    let s = p(text);
    let printed = s.to_text().expect("parsed trees print");
    let again = parse(printed.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{printed}"));
    assert!(
        again.eq_ignoring_lines(&s),
        "round trip changed the tree\n--- printed ---\n{printed}\n{s:#?}\n{again:#?}"
    );
    s
}

fn menu(s: &Script, i: usize) -> &MenuCommand {
    s.commands[i].as_menu().expect("a menu command")
}

fn keyword(s: &Script, i: usize) -> &KeywordCommand {
    match &s.commands[i].kind {
        CommandKind::Keyword(k) => k,
        other => panic!("not a keyword command: {other:?}"),
    }
}

fn path(m: &MenuCommand) -> String {
    m.path.join("/")
}

fn lit(v: &Value) -> Vec<u8> {
    v.literal().expect("a literal value")
}

fn named<'a>(args: &'a [Arg], name: &str) -> &'a Value {
    args.iter()
        .find_map(|a| match a {
            Arg::Named { name: n, value } if n == name => Some(value),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no argument {name}"))
}

fn str_value(s: &str) -> Value {
    Value::string(s.as_bytes())
}

// ---- escapes ----

#[test]
fn every_escape_decodes() {
    let cases: &[(&str, &[u8])] = &[
        (r#"\""#, b"\""),
        (r"\\", b"\\"),
        (r"\n", b"\n"),
        (r"\r", b"\r"),
        (r"\t", b"\t"),
        (r"\$", b"$"),
        (r"\?", b"?"),
        (r"\_", b" "),
        (r"\a", b"\x07"),
        (r"\b", b"\x08"),
        (r"\f", b"\x0c"),
        (r"\v", b"\x0b"),
        (r"\48\45\4C\4C\4F", b"HELLO"),
        (r"\E0\E8", b"\xE0\xE8"),
        (r"\00\7F\FF", b"\x00\x7F\xFF"),
        // Lower-case letters are the named escapes, not hex.
        (r"\ab", b"\x07b"),
        (r"\bf", b"\x08f"),
        // Only two hex digits are taken.
        (r"\414", b"A4"),
    ];
    for (esc, want) in cases {
        let s = roundtrip(&format!("/system note set note=\"x{esc}y\"\n"));
        let mut expect = b"x".to_vec();
        expect.extend_from_slice(want);
        expect.push(b'y');
        assert_eq!(
            lit(menu(&s, 0).arg("note").unwrap()),
            expect,
            "escape {esc}"
        );
    }
}

#[test]
fn hex_escapes_give_non_utf8_bytes() {
    let s = roundtrip(":put \"caf\\E9 \\F0\\9F\\98\\80\"\n");
    let Arg::Positional(v) = &keyword(&s, 0).args[0] else {
        panic!()
    };
    assert_eq!(lit(v), b"caf\xE9 \xF0\x9F\x98\x80");
}

#[test]
fn bad_escapes_are_errors_with_position() {
    let e = perr("/ip address\nadd comment=\"a\\xb\"\n");
    assert_eq!((e.line, e.column), (2, 15));
    assert!(e.message.contains("unknown escape `\\x`"), "{e}");
    // Lower-case hex is not hex.
    let e = perr(":put \"\\e0\"");
    assert_eq!((e.line, e.column), (1, 7));
    // A single upper-case hex digit is not an escape.
    assert!(perr(":put \"\\A\"").message.contains("unknown escape"));
}

#[test]
fn error_display_has_line_and_column() {
    let e = perr("/ip address\n\n\nadd comment=\"open\n");
    assert_eq!(e.line, 4);
    assert_eq!(e.column, 13);
    assert_eq!(
        e.to_string(),
        "line 4 column 13: unterminated string: the file ends before the closing `\"`"
    );
}

// ---- continuations ----

#[test]
fn continuation_outside_strings_separates_arguments() {
    let s = roundtrip("/ip address\nadd address=10.0.0.1/24 \\\n    interface=ether1\n");
    let m = menu(&s, 0);
    assert_eq!(m.args.len(), 2);
    assert_eq!(lit(m.arg("interface").unwrap()), b"ether1");
    // Without a space before the backslash (hand-edited export 001).
    let s = roundtrip("add src-address-list=!block\\\n    action=drop\n");
    let m = menu(&s, 0);
    assert_eq!(lit(m.arg("src-address-list").unwrap()), b"!block");
    assert_eq!(lit(m.arg("action").unwrap()), b"drop");
}

#[test]
fn continuation_right_after_equals_carries_the_value() {
    let s = roundtrip(
        "/interface ethernet\r\nset [ find default-name=ether3 ] master-port=m name=\\\r\n    ether3-slave-local\r\n",
    );
    assert_eq!(lit(menu(&s, 0).arg("name").unwrap()), b"ether3-slave-local");
    // The value may be a quoted string on the next line.
    let s = roundtrip("add comment=\\\n    \"a b\" name=x\n");
    assert_eq!(lit(menu(&s, 0).arg("comment").unwrap()), b"a b");
    assert_eq!(lit(menu(&s, 0).arg("name").unwrap()), b"x");
}

#[test]
fn continuation_inside_strings_drops_break_and_indent() {
    // 002: a word split inside a quoted string.
    let s = roundtrip("add regexp=\"^.+(googlead\\\r\n    s|ads).*\\$\"\r\n");
    assert_eq!(
        lit(menu(&s, 0).arg("regexp").unwrap()),
        b"^.+(googleads|ads).*$"
    );
    // `\_` at the start of the continuation is the space at the cut point.
    let s = roundtrip("add source=\":log info \\\"a\\\n    \\_b\\\"\"\n");
    assert_eq!(
        lit(menu(&s, 0).arg("source").unwrap()),
        b":log info \"a b\""
    );
    // Works with CR-only line ends too.
    let s = roundtrip("add comment=\"ab\\\r    cd\"\r");
    assert_eq!(lit(menu(&s, 0).arg("comment").unwrap()), b"abcd");
}

#[test]
fn raw_line_break_inside_string_is_kept() {
    let s = roundtrip("/system note\nset note=\"line one\nline two\" show-at-login=yes\n");
    assert_eq!(lit(menu(&s, 0).arg("note").unwrap()), b"line one\nline two");
    assert_eq!(s.commands[0].line, 2);
    // Line numbers keep counting after it.
    let s = p(":put \"a\r\nb\"\r\n:put c\r\n");
    assert_eq!(s.commands[1].line, 3);
    let Arg::Positional(v) = &keyword(&s, 0).args[0] else {
        panic!()
    };
    assert_eq!(lit(v), b"a\r\nb");
}

#[test]
fn stray_backslash_outside_string_is_an_error() {
    let e = perr("add name=a \\x\n");
    assert_eq!((e.line, e.column), (1, 12));
    assert!(e.message.contains("must end the line"), "{e}");
}

// ---- paths ----

#[test]
fn section_lines_in_both_forms() {
    let s =
        roundtrip("/ip address\nadd address=1.1.1.1/32\n/ip/firewall/filter\nadd chain=input\n");
    assert_eq!(path(menu(&s, 0)), "ip/address");
    assert_eq!(path(menu(&s, 1)), "ip/firewall/filter");
    assert_eq!(menu(&s, 1).api_path(), "/ip/firewall/filter/add");
    assert_eq!(s.commands[1].line, 4);
}

#[test]
fn slash_form_commands_and_relative_slash_paths() {
    let s = roundtrip(
        "/interface/bridge/port/add bridge=b1 interface=ether2\n/system/license/output\n:local d [system/clock/get date]\n",
    );
    let m = menu(&s, 0);
    assert_eq!(
        (path(m).as_str(), m.verb.as_str()),
        ("interface/bridge/port", "add")
    );
    let m = menu(&s, 1);
    assert_eq!(
        (path(m).as_str(), m.verb.as_str()),
        ("system/license", "output")
    );
    let Arg::Positional(Value::Sub(sub)) = &keyword(&s, 2).args[1] else {
        panic!()
    };
    let m = sub[0].as_menu().unwrap();
    assert_eq!((path(m).as_str(), m.verb.as_str()), ("system/clock", "get"));
    // Nothing may follow the verb in a slash path.
    assert!(perr("/ip/address/add/x\n")
        .message
        .contains("nothing may follow"));
}

#[test]
fn terse_lines_carry_their_path_and_keep_the_section() {
    let s = roundtrip(
        "/ip address\n/caps-man channel add band=2ghz-b/g/n name=ch2\nadd address=1.2.3.4/32\n",
    );
    let m = menu(&s, 0);
    assert_eq!(
        (path(m).as_str(), m.verb.as_str()),
        ("caps-man/channel", "add")
    );
    assert_eq!(lit(m.arg("name").unwrap()), b"ch2");
    // A terse line does not change the current section.
    assert_eq!(path(menu(&s, 1)), "ip/address");
}

#[test]
fn extra_spaces_and_tabs_between_path_words() {
    let s = roundtrip("/ip   firewall\tfilter add chain=input\n/certificate\n\tremove [find]\n");
    assert_eq!(path(menu(&s, 0)), "ip/firewall/filter");
    assert_eq!(path(menu(&s, 1)), "certificate");
}

#[test]
fn commands_without_arguments_and_lone_slash() {
    let s = roundtrip("/ip dns cache flush\n/system reboot\n/ip address\n/\nexport\n");
    assert_eq!(menu(&s, 0).api_path(), "/ip/dns/cache/flush");
    assert_eq!(menu(&s, 1).api_path(), "/system/reboot");
    // `/` alone goes back to the root menu.
    assert_eq!(menu(&s, 2).api_path(), "/export");
}

#[test]
fn menus_spelt_like_verbs() {
    let s = roundtrip(
        "/system upgrade mirror\nset check-interval=1d enabled=no\n/tool mac-server ping\nset enabled=no\n/system routerboard upgrade\n/ping 10.0.0.1 count=1\n/system/upgrade/mirror/set enabled=yes\n",
    );
    assert_eq!(menu(&s, 0).api_path(), "/system/upgrade/mirror/set");
    assert_eq!(menu(&s, 1).api_path(), "/tool/mac-server/ping/set");
    assert_eq!(menu(&s, 2).api_path(), "/system/routerboard/upgrade");
    assert_eq!(menu(&s, 3).api_path(), "/ping");
    assert_eq!(menu(&s, 4).api_path(), "/system/upgrade/mirror/set");
}

#[test]
fn unknown_verb_with_arguments_is_the_last_word() {
    let s = roundtrip("/tool traceroute 1.1.1.1 count=1\n/system frobnicate now=yes\n");
    assert_eq!(menu(&s, 0).api_path(), "/tool/traceroute");
    assert_eq!(menu(&s, 1).api_path(), "/system/frobnicate");
}

// ---- selectors ----

#[test]
fn find_selectors() {
    let s = roundtrip(
        "/interface ethernet\nset [ find default-name=ether1 ] name=wan\nset [ find where name=\"x\" ] mtu=1500\nremove [ find ]\nset [find default=yes] comment=\"\"\n",
    );
    let m = menu(&s, 0);
    let Some(Selector::Find(f)) = &m.selector else {
        panic!("{m:?}")
    };
    assert_eq!(
        f.equalities().unwrap(),
        [("default-name".to_string(), b"ether1".to_vec())]
    );
    assert_eq!(lit(m.arg("name").unwrap()), b"wan");
    assert_eq!(m.args.len(), 1);

    let Some(Selector::Find(f)) = &menu(&s, 1).selector else {
        panic!()
    };
    assert!(matches!(f.args.as_slice(), [Arg::Where(_)]));
    assert_eq!(
        f.equalities().unwrap(),
        [("name".to_string(), b"x".to_vec())]
    );

    let Some(Selector::Find(f)) = &menu(&s, 2).selector else {
        panic!()
    };
    assert!(f.args.is_empty());
    assert_eq!(menu(&s, 3).arg("comment").unwrap(), &Value::Str(vec![]));
}

#[test]
fn complex_find_filters_are_kept_but_not_equalities() {
    let s = roundtrip(
        "/interface\nremove [ find where !(slave=yes || name=\"ether1\" || name~\"bridge\") ]\nremove [find name!=routeros]\nremove [find comment~\"defconf\" !disabled]\n",
    );
    for i in 0..3 {
        let Some(Selector::Find(f)) = &menu(&s, i).selector else {
            panic!()
        };
        assert_eq!(f.equalities(), None, "command {i}");
    }
    let Some(Selector::Find(f)) = &menu(&s, 2).selector else {
        panic!()
    };
    assert_eq!(
        f.args[0],
        Arg::Positional(Value::Concat(vec![
            Value::Bare(b"comment~".to_vec()),
            str_value("defconf")
        ]))
    );
    assert_eq!(
        f.args[1],
        Arg::Positional(Value::Bare(b"!disabled".to_vec()))
    );
}

#[test]
fn ids_numbers_names_and_variables() {
    let s = roundtrip(
        "/ip dhcp-client\nset 0 disabled=yes\nremove *1F\n/ip service\nset telnet disabled=yes\n/interface bridge\nset \"bridge\" auto-mac=no\nset $ifcId mtu=1500\nset 007 mtu=1\n",
    );
    assert_eq!(menu(&s, 0).selector, Some(Selector::Number(0)));
    assert_eq!(menu(&s, 1).selector, Some(Selector::Id("*1F".into())));
    assert_eq!(
        menu(&s, 2).selector,
        Some(Selector::Value(Value::Bare(b"telnet".to_vec())))
    );
    assert_eq!(
        menu(&s, 3).selector,
        Some(Selector::Value(str_value("bridge")))
    );
    assert_eq!(
        menu(&s, 4).selector,
        Some(Selector::Value(Value::Var("ifcId".into())))
    );
    // Leading zeros: a name, not a position.
    assert_eq!(
        menu(&s, 5).selector,
        Some(Selector::Value(Value::Bare(b"007".to_vec())))
    );
}

#[test]
fn singleton_set_has_no_selector_and_numbers_stays_named() {
    let s = roundtrip(
        "/system identity\nset name=router1\n/ip firewall nat remove numbers=[find where comment~\"x\"]\n",
    );
    assert_eq!(menu(&s, 0).selector, None);
    assert_eq!(lit(menu(&s, 0).arg("name").unwrap()), b"router1");
    let m = menu(&s, 1);
    assert_eq!(m.selector, None);
    assert!(matches!(m.arg("numbers"), Some(Value::Sub(_))));
}

#[test]
fn selector_may_come_after_named_arguments() {
    let s = roundtrip("/interface/ethernet/poe/set poe-out=off [find]\n");
    let m = menu(&s, 0);
    assert!(matches!(&m.selector, Some(Selector::Find(f)) if f.args.is_empty()));
    assert_eq!(m.args.len(), 1);
}

#[test]
fn find_into_another_menu_is_a_value_selector() {
    let s = roundtrip("/ip address\nremove [/interface find name=x]\n");
    assert!(matches!(
        &menu(&s, 0).selector,
        Some(Selector::Value(Value::Sub(_)))
    ));
}

#[test]
fn dotted_and_leading_dot_property_names() {
    let s = roundtrip(
        "/routing bgp connection\nadd as=65500 local.address=20.0.0.1 .role=ebgp name=\\\n    toPE2 output.network=BGP_OUT\n",
    );
    let m = menu(&s, 0);
    assert_eq!(lit(m.arg("local.address").unwrap()), b"20.0.0.1");
    assert_eq!(lit(m.arg(".role").unwrap()), b"ebgp");
    assert_eq!(lit(m.arg("name").unwrap()), b"toPE2");
}

// ---- line ends, BOM, comments, `;` ----

#[test]
fn crlf_cr_lf_and_bom() {
    for text in [
        "\u{feff}# c\r\n/ip address\r\nadd address=1.1.1.1/32\r\n",
        "# c\r/ip address\radd address=1.1.1.1/32\r",
        "# c\n/ip address\nadd address=1.1.1.1/32",
    ] {
        let s = roundtrip(text);
        assert_eq!(s.commands.len(), 1);
        assert_eq!(s.commands[0].line, 3);
        assert_eq!(menu(&s, 0).api_path(), "/ip/address/add");
    }
    // Columns are counted after the BOM.
    let e = perr("\u{feff}  \"x\"");
    assert_eq!((e.line, e.column), (1, 3));
}

#[test]
fn comments() {
    let s = roundtrip("# header\n  # indented\n/ip address\n\t# tab-indented\n");
    assert!(s.commands.is_empty());
    let s =
        roundtrip(":global a; # after a semicolon\n:put \"# not a comment\"\nadd comment=a#b\n");
    assert_eq!(s.commands.len(), 3);
    let Arg::Positional(v) = &keyword(&s, 1).args[0] else {
        panic!()
    };
    assert_eq!(lit(v), b"# not a comment");
    assert_eq!(lit(menu(&s, 2).arg("comment").unwrap()), b"a#b");
    // A comment in the middle of a command is refused, with its position.
    let e = perr("/ip address\nadd address=1.1.1.1/32 # note\n");
    assert_eq!((e.line, e.column), (2, 24));
    assert!(e.message.contains("comment"), "{e}");
}

#[test]
fn semicolons_separate_commands() {
    let s = roundtrip(
        "/ip address; add address=1.1.1.1/32; add address=2.2.2.2/32;;\n:put a; :put b\n",
    );
    assert_eq!(s.commands.len(), 4);
    assert_eq!(path(menu(&s, 1)), "ip/address");
    assert!(s.commands.iter().all(|c| c.line <= 2));
}

// ---- blocks and scripting ----

#[test]
fn brace_blocks_resolve_relative_paths_and_restore_the_menu() {
    let s = roundtrip(
        "/ip {\n  firewall {\n    nat { remove [find]; }\n  }\n  dns {\n    set allow-remote-requests=no\n    static add name=a address=1.1.1.1\n  }\n  neighbor discovery\n  set ether1 discover=no\n}\nadd x=1\n",
    );
    let CommandKind::Block(b) = &s.commands[0].kind else {
        panic!()
    };
    assert_eq!(b.path, ["ip"]);
    let CommandKind::Block(fw) = &b.body[0].kind else {
        panic!()
    };
    let CommandKind::Block(nat) = &fw.body[0].kind else {
        panic!()
    };
    assert_eq!(
        nat.body[0].as_menu().unwrap().api_path(),
        "/ip/firewall/nat/remove"
    );
    let CommandKind::Block(dns) = &b.body[1].kind else {
        panic!()
    };
    assert_eq!(dns.body[0].as_menu().unwrap().api_path(), "/ip/dns/set");
    assert_eq!(
        dns.body[1].as_menu().unwrap().api_path(),
        "/ip/dns/static/add"
    );
    assert_eq!(dns.body[1].line, 7);
    // A section line inside a block applies to the rest of that block only.
    assert_eq!(
        b.body[2].as_menu().unwrap().api_path(),
        "/ip/neighbor/discovery/set"
    );
    assert_eq!(menu(&s, 1).api_path(), "/add");
}

#[test]
fn scripting_constructs() {
    let text = r#":global ssid;
:local count 0
:if ($action = "apply") do={
  :while ([/interface ethernet find] = "") do={ :delay 1s; :set count ($count +1) }
} else={
  :log info "no"
}
:foreach k in=[/interface find where !(slave=yes)] do={
  :local n [/interface get $k name]
}
:do {
  /ip dhcp-client add interface=$brName disabled=no comment="defconf"
} on-error={ :log warning "$logPref unable to add dhcp client";}
:set ssid "MikroTik-$[:pick $wlanMac 9 11]$[:pick $wlanMac 12 14]"
:put ("a" . $b)
$putSuccess ("Created " . $x) info
{ [/terminal style varname-local]; :put $1 }
:local a {1;2;"x"}
:return ({ "de"; "net" }->$I)
"#;
    let s = roundtrip(text);
    let kws: Vec<&str> = s
        .commands
        .iter()
        .filter_map(|c| match &c.kind {
            CommandKind::Keyword(k) => Some(k.keyword.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        kws,
        ["global", "local", "if", "foreach", "do", "set", "put", "local", "return"]
    );

    let k = keyword(&s, 2);
    assert!(matches!(&k.args[0], Arg::Positional(Value::Paren(_))));
    let Value::Block(body) = named(&k.args, "do") else {
        panic!()
    };
    assert_eq!(body[0].line, 4);
    assert!(matches!(named(&k.args, "else"), Value::Block(b) if b.len() == 1));

    let k = keyword(&s, 3);
    let Value::Sub(sub) = named(&k.args, "in") else {
        panic!()
    };
    assert_eq!(sub[0].as_menu().unwrap().api_path(), "/interface/find");

    let k = keyword(&s, 4);
    let Arg::Positional(Value::Block(body)) = &k.args[0] else {
        panic!()
    };
    assert_eq!(body[0].as_menu().unwrap().api_path(), "/ip/dhcp-client/add");
    assert!(matches!(named(&k.args, "on-error"), Value::Block(_)));

    let Arg::Positional(Value::Str(parts)) = &keyword(&s, 5).args[1] else {
        panic!()
    };
    assert_eq!(parts[0], StrPart::Lit(b"MikroTik-".to_vec()));
    assert!(
        matches!(&parts[1], StrPart::Sub(c) if matches!(&c[0].kind, CommandKind::Keyword(k) if k.keyword == "pick"))
    );
    assert_eq!(parts.len(), 3);

    let CommandKind::Call(call) = &s.commands[7].kind else {
        panic!()
    };
    assert_eq!(call.func, Value::Var("putSuccess".into()));
    assert_eq!(call.args.len(), 2);

    let CommandKind::Block(b) = &s.commands[8].kind else {
        panic!()
    };
    assert!(
        matches!(&b.body[0].kind, CommandKind::Expr(Value::Sub(c)) if c[0].as_menu().unwrap().api_path() == "/terminal/style")
    );

    assert!(
        matches!(&keyword(&s, 9).args[1], Arg::Positional(Value::Array(e)) if e.items.len() == 5)
    );
}

#[test]
fn call_of_an_expression() {
    let s = roundtrip("($Fns->$Name) \\\n  (\"x\" . $Name) \\\n  $Notification;\n");
    let CommandKind::Call(c) = &s.commands[0].kind else {
        panic!()
    };
    assert!(matches!(c.func, Value::Paren(_)));
    assert_eq!(c.args.len(), 2);
}

#[test]
fn keywords_without_colon() {
    let s = roundtrip("global RedZone\nif ($a = 1) do={ put x }\n/ip dns\nset servers=1.1.1.1\n");
    assert_eq!(keyword(&s, 0).keyword, "global");
    assert_eq!(keyword(&s, 1).keyword, "if");
    // Inside a menu, `set` is that menu's command.
    assert_eq!(menu(&s, 2).api_path(), "/ip/dns/set");
    // At the root, `set` is `:set`.
    assert_eq!(keyword(&p("set x 1\n"), 0).keyword, "set");
}

#[test]
fn string_substitutions_are_separate_from_literal_dollars() {
    let s = roundtrip(":put \"$a.99 \\$b $[/system identity get name] $(1+2)\"\n");
    let Arg::Positional(Value::Str(parts)) = &keyword(&s, 0).args[0] else {
        panic!()
    };
    assert_eq!(parts[0], StrPart::Var("a".into()));
    assert_eq!(parts[1], StrPart::Lit(b".99 $b ".to_vec()));
    assert!(matches!(&parts[2], StrPart::Sub(_)));
    assert!(matches!(&parts[4], StrPart::Expr(_)));
    // A bare `$` in a string is refused.
    let e = perr(":put \"5$\"\n");
    assert_eq!((e.line, e.column), (1, 8));
}

#[test]
fn nested_source_strings_decode_and_parse() {
    // The shape exports give scripts: \r\n, \", \$ and \_ escapes, wrapped.
    let text = r##"/system script
add dont-require-permissions=no name=ddns policy=read,write source="#\
    \n:local ip [/ip address get [find interface=\"\$iface\"\
    \_disabled=no] address]\r\
    \n:log info \"IP: \$ip\""
"##;
    let s = roundtrip(text);
    let src = lit(menu(&s, 0).arg("source").unwrap());
    assert_eq!(
        src,
        b"#\n:local ip [/ip address get [find interface=\"$iface\" disabled=no] address]\r\n:log info \"IP: $ip\""
            .as_slice()
    );
    let inner = roundtrip(std::str::from_utf8(&src).unwrap());
    assert_eq!(inner.commands.len(), 2);
    let k = keyword(&inner, 0);
    let Arg::Positional(Value::Sub(sub)) = &k.args[1] else {
        panic!()
    };
    let get = sub[0].as_menu().unwrap();
    assert_eq!(get.api_path(), "/ip/address/get");
    // The inner `find` resolves against the command's own menu.
    let Arg::Positional(Value::Sub(find)) = &get.args[0] else {
        panic!()
    };
    assert_eq!(find[0].as_menu().unwrap().api_path(), "/ip/address/find");
}

#[test]
fn on_event_with_escaped_script() {
    let s = roundtrip(
        "/system scheduler\nadd interval=1m name=x on-event=\"/system script run check\" start-time=startup\nadd name=y on-event=\":if (\\$a = 1) do={ :log info \\\"x\\\" }\"\n",
    );
    let ev = lit(menu(&s, 1).arg("on-event").unwrap());
    assert_eq!(ev, b":if ($a = 1) do={ :log info \"x\" }");
    let inner = p(std::str::from_utf8(&ev).unwrap());
    assert_eq!(keyword(&inner, 0).keyword, "if");
}

// ---- errors ----

#[test]
fn structural_errors_have_positions() {
    let e = perr(":if (1) do={\n  :put x\n");
    assert_eq!((e.line, e.column), (1, 12));
    assert!(e.message.contains("`{` is never closed"), "{e}");
    let e = perr(":put x\n}\n");
    assert_eq!((e.line, e.column), (2, 1));
    let e = perr(":put [:len x\n");
    assert!(e.message.contains("`[` is never closed"), "{e}");
    let e = perr(":put (1 + 2\n:put 3");
    assert_eq!((e.line, e.column), (1, 6));
    let e = perr("/ip address\n  add x=1 )\n");
    assert_eq!((e.line, e.column), (2, 11));
    let e = perr("/ip/Address\n");
    assert!(
        e.message
            .contains("`Address` is not a menu or command name"),
        "{e}"
    );
}

#[test]
fn print_output_is_not_a_script() {
    // What `/system default-configuration print` looks like (corpus 011).
    let e = perr("# header\n#\n            script: #| Welcome to RouterOS!\n");
    assert_eq!((e.line, e.column), (3, 13));
    assert!(e.message.contains("`script:` is not a command"), "{e}");
    assert!(e.message.contains("`print`"), "{e}");
}

#[test]
fn deep_nesting_is_refused() {
    let text = format!(":put {}1{}", "(".repeat(500), ")".repeat(500));
    assert!(perr(&text).message.contains("nesting deeper"));
}

// ---- printing ----

#[test]
fn quote_value_escapes_everything_special() {
    assert_eq!(quote_value(b"plain"), "\"plain\"");
    assert_eq!(quote_value(b""), "\"\"");
    assert_eq!(
        quote_value(b"a\\b\"c$d?e\rf\ng\th"),
        r#""a\\b\"c\$d\?e\rf\ng\th""#
    );
    assert_eq!(quote_value(b"\x00\x07\x1b\x7f"), r#""\00\07\1B\7F""#);
    assert_eq!(quote_value("ñ€".as_bytes()), r#""\C3\B1\E2\82\AC""#);
    assert_eq!(quote_value(b"\xff"), r#""\FF""#);
    assert_eq!(
        quote_value(b"$[/system reset-configuration]"),
        r#""\$[/system reset-configuration]""#
    );
    assert!(quote_value(&(0u8..=255).collect::<Vec<_>>()).is_ascii());
}

#[test]
fn quoted_values_read_back_as_the_same_bytes() {
    let all: Vec<u8> = (0u8..=255).collect();
    let text = format!("/system note set note={}\n", quote_value(&all));
    let s = p(&text);
    assert_eq!(lit(menu(&s, 0).arg("note").unwrap()), all);
}

#[test]
fn printed_text_is_terse_and_ascii() {
    let s = p("/ip address\nadd address=10.0.0.1/24 comment=\"caf\\E9\" interface=ether1\n");
    assert_eq!(
        s.to_text().unwrap(),
        "/ip address add address=10.0.0.1/24 comment=\"caf\\E9\" interface=ether1\n"
    );
    let s = p(":if ($a) do={\n:put 1\n} else={ :put \"$a-x\" }\n");
    assert_eq!(
        s.to_text().unwrap(),
        ":if ($a) do={\n    :put 1\n} else={\n    :put \"$a-x\"\n}\n"
    );
}

fn add(args: Vec<Arg>) -> Script {
    Script {
        commands: vec![ScriptCommand {
            line: 1,
            kind: CommandKind::Menu(MenuCommand {
                path: vec!["ip".into(), "address".into()],
                verb: "add".into(),
                selector: None,
                args,
            }),
        }],
    }
}

fn arg(name: &str, value: Value) -> Arg {
    Arg::Named {
        name: name.into(),
        value,
    }
}

#[test]
fn hand_built_values_cannot_inject() {
    let hostile = b"x\" disabled=yes\n/system reset-configuration\n:put $[:execute y]? ";
    for value in [
        Value::text(hostile.to_vec()),
        Value::string(hostile.to_vec()),
        // Even a bare word holding hostile bytes is quoted, not trusted.
        Value::Bare(hostile.to_vec()),
    ] {
        let s = add(vec![arg("comment", value)]);
        let text = s.to_text().unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        let back = p(&text);
        assert_eq!(back.commands.len(), 1);
        let m = menu(&back, 0);
        assert_eq!(m.args.len(), 1);
        assert_eq!(lit(m.arg("comment").unwrap()), hostile);
    }
    // Plain tokens stay unquoted.
    assert_eq!(
        Value::text("10.0.0.1/24"),
        Value::Bare(b"10.0.0.1/24".to_vec())
    );
    assert!(matches!(Value::text("a b"), Value::Str(_)));
    assert!(matches!(Value::text(""), Value::Str(_)));
}

#[test]
fn hand_built_positionals_are_quoted_where_they_would_change_meaning() {
    for word in ["where", "a=b", "#x"] {
        let mut s = add(vec![Arg::Positional(Value::Bare(word.into()))]);
        let CommandKind::Menu(m) = &mut s.commands[0].kind else {
            panic!()
        };
        m.verb = "print".into();
        let text = s.to_text().unwrap();
        let back = p(&text);
        let bm = menu(&back, 0);
        assert_eq!(bm.args.len(), 1, "{text}");
        assert_eq!(bm.args[0], Arg::Positional(str_value(word)), "{text}");
    }
}

#[test]
fn hand_built_names_are_validated() {
    let bad_name = add(vec![arg("comment x=1", Value::Bare(b"y".to_vec()))]);
    assert!(bad_name.to_text().is_err());
    let mut s = add(vec![arg("a", Value::Bare(b"b".to_vec()))]);
    let CommandKind::Menu(m) = &mut s.commands[0].kind else {
        panic!()
    };
    m.path = vec!["ip address".into()];
    assert!(s.to_text().is_err());
    let CommandKind::Menu(m) = &mut s.commands[0].kind else {
        panic!()
    };
    m.path = vec!["ip".into(), "set".into()];
    assert!(
        s.to_text().is_err(),
        "a verb inside the path would split differently"
    );
    let CommandKind::Menu(m) = &mut s.commands[0].kind else {
        panic!()
    };
    m.path = vec!["ip".into()];
    m.verb = "add;".into();
    assert!(s.to_text().is_err());
    // An unknown verb with no arguments would read back as a section line.
    let CommandKind::Menu(m) = &mut s.commands[0].kind else {
        panic!()
    };
    m.verb = "frob".into();
    m.args.clear();
    assert!(s.to_text().is_err());
    // A variable name that cannot be written inside a string.
    let s = add(vec![arg(
        "comment",
        Value::Str(vec![StrPart::Var("a b".into())]),
    )]);
    assert!(s.to_text().is_err());
}

#[test]
fn literal_text_after_a_variable_does_not_extend_its_name() {
    let v = Value::Str(vec![
        StrPart::Var("n".into()),
        StrPart::Lit(b"ame".to_vec()),
    ]);
    let s = add(vec![arg("comment", v.clone())]);
    let text = s.to_text().unwrap();
    assert!(text.contains("\"$n\\61me\""), "{text}");
    assert_eq!(menu(&p(&text), 0).arg("comment"), Some(&v));
}

#[test]
fn a_word_glued_to_a_variable_stays_a_word() {
    // Found by the script_parse fuzz target: in `$"n"ame` (and `$"a b"word`)
    // the quote ends the name; printing `$n"ame"` read back as a string.
    for (text, name, word, printed) in [
        (
            "/ip address add comment=$\"a b\"word\n",
            "a b",
            "word",
            "comment=$\"a b\"word",
        ),
        (
            "/ip address add comment=$\"n\"ame\n",
            "n",
            "ame",
            "comment=$\"n\"ame",
        ),
    ] {
        let s = roundtrip(text);
        assert_eq!(
            menu(&s, 0).arg("comment"),
            Some(&Value::Concat(vec![
                Value::Var(name.into()),
                Value::Bare(word.as_bytes().to_vec())
            ]))
        );
        assert!(s.to_text().unwrap().contains(printed), "{text}");
    }
    // Only a glued word makes the name quoted.
    let s = roundtrip("/ip address add comment=$n-x\n");
    assert!(s.to_text().unwrap().contains("comment=$n-x"));
    // A word that is quoted anyway (non-ASCII) leaves the name plain, so
    // printing is stable.
    let text = p(":put ($\"o\"o\u{e9})\n").to_text().unwrap();
    assert_eq!(text, ":put ($o\"o\\C3\\A9\")\n");
    assert_eq!(p(&text).to_text().unwrap(), text);
    // The same in an expression (it failed to print).
    let s = roundtrip(":put ($\"n\"Y . $\"a b\"c . $x)\n");
    assert_eq!(s.to_text().unwrap(), ":put ($\"n\"Y . $\"a b\"c . $x)\n");
}

#[test]
fn where_glued_to_a_string_is_a_word() {
    // Found by the script_parse fuzz target: `where"x"` is no `where`
    // clause, so its `where` need not (and must not) be quoted.
    let s = roundtrip("/interface find where\" x\"\n");
    assert_eq!(
        menu(&s, 0).args,
        vec![Arg::Positional(Value::Concat(vec![
            Value::Bare(b"where".to_vec()),
            Value::Str(vec![StrPart::Lit(b" x".to_vec())]),
        ]))]
    );
    assert!(s.to_text().unwrap().contains("find where\" x\""));
    // A lone `where` value is still quoted, or it would start a clause.
    let s = roundtrip("/interface find \"where\"\n");
    assert!(s.to_text().unwrap().contains("find \"where\""));
}

#[test]
fn api_conversion() {
    let s = p("/ip address\nadd address=10.0.0.1/24 interface=ether1 comment=\"a b\"\nset *1F disabled=yes\nset [ find ] disabled=no\nadd interface=$x\n");
    let sentence = menu(&s, 0)
        .to_api_command()
        .unwrap()
        .to_sentence(None)
        .unwrap();
    let words: Vec<&[u8]> = sentence.words().iter().map(|w| w.as_slice()).collect();
    assert_eq!(
        words,
        [
            &b"/ip/address/add"[..],
            b"=address=10.0.0.1/24",
            b"=interface=ether1",
            b"=comment=a b"
        ]
    );
    let sentence = menu(&s, 1)
        .to_api_command()
        .unwrap()
        .to_sentence(None)
        .unwrap();
    assert_eq!(sentence.words()[1].as_slice(), b"=numbers=*1F");
    assert_eq!(
        menu(&s, 2).to_api_command().unwrap_err(),
        ApiConversionError::SelectorNeedsLookup
    );
    assert_eq!(
        menu(&s, 3).to_api_command().unwrap_err(),
        ApiConversionError::NotLiteral("interface".into())
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9-]{0,8}(\\.[a-z]{1,4})?".prop_filter("a name", |s| !s.ends_with('-'))
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::text),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::string),
            "[A-Za-z0-9._:/,+*@%!=~<>^&|'-]{1,20}".prop_map(|s| Value::Bare(s.into_bytes())),
            "[A-Za-z_][A-Za-z0-9_]{0,8}".prop_map(Value::Var),
            (
                proptest::collection::vec(any::<u8>(), 0..10),
                "[A-Za-z0-9_]{1,6}",
                proptest::collection::vec(any::<u8>(), 1..10)
            )
                .prop_map(|(a, v, b)| Value::Str(
                    [
                        (!a.is_empty()).then_some(StrPart::Lit(a)),
                        Some(StrPart::Var(v)),
                        Some(StrPart::Lit(b))
                    ]
                    .into_iter()
                    .flatten()
                    .collect()
                )),
        ]
    }

    fn menu_path() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec("[a-z][a-z0-9-]{0,8}[a-z0-9]", 0..4)
            .prop_filter("no verbs in paths", |p| {
                (0..p.len()).all(|i| !is_verb_at(&p[..i], &p[i]))
            })
    }

    fn command() -> impl Strategy<Value = MenuCommand> {
        (
            menu_path(),
            prop::sample::select(vec!["add", "set", "remove", "print", "export"]),
            proptest::option::of(prop_oneof![
                Just(Selector::Find(Find::default())),
                (name(), value()).prop_map(|(n, v)| Selector::Find(Find {
                    args: vec![Arg::Named { name: n, value: v }]
                })),
                (0u32..100000).prop_map(Selector::Number),
                "\\*[0-9A-F]{1,8}".prop_map(Selector::Id),
                value().prop_map(Selector::Value),
            ]),
            proptest::collection::vec((name(), value()), 0..5),
        )
            .prop_map(|(path, verb, selector, args)| {
                let selector = if SELECTOR_VERB_SAMPLE.contains(&verb) {
                    selector
                } else {
                    None
                };
                MenuCommand {
                    path,
                    verb: verb.to_string(),
                    selector,
                    args: args
                        .into_iter()
                        .map(|(name, value)| Arg::Named { name, value })
                        .collect(),
                }
            })
    }

    const SELECTOR_VERB_SAMPLE: &[&str] = &["set", "remove"];

    /// Script-shaped text: mostly valid, with random bytes inside strings.
    fn script_text() -> impl Strategy<Value = String> {
        // Raw printable bytes except `"` `$` `\`; every escape; `$var`;
        // continuations and raw line breaks.
        let string =
            "([ !#%-\\[\\]-~]|\\\\[nrt$?_\"\\\\abfv]|\\\\[0-9A-F]{2}|\\$[a-z]{1,3}|\\\\\n    |\n)*"
                .prop_map(|s| format!("\"{s}\""));
        let bare = "[a-z0-9][a-z0-9./:,!*@%-]{0,10}";
        let leaf = prop_oneof![
            bare.prop_map(|s| s.to_string()),
            string.clone(),
            "[a-z]{1,5}".prop_map(|v| format!("${v}")),
            "[a-z]{1,5}".prop_map(|v| format!("[ :len ${v} ]")),
            ("[a-z]{1,5}", "[0-9]{1,3}").prop_map(|(v, n)| format!("(${v} + {n})")),
            "[a-z]{1,5}".prop_map(|n| format!("[ find where name=\"{n}\" ]")),
        ];
        let arg = prop_oneof![
            ("[a-z][a-z-]{0,6}", leaf.clone()).prop_map(|(n, v)| format!("{n}={v}")),
            ("[a-z][a-z-]{0,6}", leaf.clone()).prop_map(|(n, v)| format!("{n}=\\\n    {v}")),
            leaf.clone(),
        ];
        let args = proptest::collection::vec(arg, 0..4).prop_map(|a| a.join(" "));
        let head = prop_oneof![
            Just("/ip address add".to_string()),
            Just("/interface ethernet set".to_string()),
            Just("/ip firewall filter remove".to_string()),
            Just("set".to_string()),
            Just("add".to_string()),
            Just(":put".to_string()),
            Just(":local x".to_string()),
            Just("$fn".to_string()),
            Just("/ip/dns/static/add".to_string()),
            Just("/interface print where".to_string()),
        ];
        let simple = (head, args).prop_map(|(h, a)| format!("{h} {a}"));
        let section = prop_oneof![
            Just("/ip address".to_string()),
            Just("/interface bridge port".to_string()),
            Just("# a comment".to_string()),
            Just("".to_string()),
        ];
        let line = prop_oneof![4 => simple, 1 => section];
        let stmt = line.prop_recursive(3, 24, 4, |inner| {
            let body = proptest::collection::vec(inner, 0..4);
            prop_oneof![
                body.clone()
                    .prop_map(|b| format!("{{\n{}\n}}", b.join("\n"))),
                (body.clone(), body.clone()).prop_map(|(a, b)| format!(
                    ":if ($a = 1) do={{\n{}\n}} else={{\n{}\n}}",
                    a.join("\n"),
                    b.join("\n")
                )),
                body.clone()
                    .prop_map(|b| format!("/ip dns {{\n{}\n}}", b.join("\n"))),
                body.prop_map(|b| format!(":do {{\n{}\n}} on-error={{}}", b.join("\n"))),
            ]
        });
        (
            proptest::collection::vec(stmt, 0..8),
            prop::sample::select(vec!["\n", "\r\n", "\r"]),
        )
            .prop_map(|(lines, eol)| lines.join("\n").replace('\n', eol))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Syntax-heavy random text: never a panic, and whatever parses
        /// prints and reads back as the same tree.
        #[test]
        fn parsed_text_always_prints_and_round_trips(
            text in "([a-z]{1,6}|[ /=:$\"\\\\\\[\\](){};#\n\r\t0-9.!~*_?-]|\\\\\n|\\\\[nrt$_?\"]|\\\\E9|set |add |where |do=|/ip |:if |:put ){0,40}"
        ) {
            if let Ok(s) = parse(text.as_bytes()) {
                let printed = s.to_text().map_err(|e| TestCaseError::fail(format!("{e}\n{text:?}")))?;
                let back = parse(printed.as_bytes())
                    .map_err(|e| TestCaseError::fail(format!("{e}\n{text:?}\n{printed}")))?;
                prop_assert!(back.eq_ignoring_lines(&s), "{:?}\n{}", text, printed);
            }
        }

        #[test]
        fn script_shaped_text_round_trips(text in script_text()) {
            let s = parse(text.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            let printed = s.to_text().map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            let back = parse(printed.as_bytes())
                .map_err(|e| TestCaseError::fail(format!("{e}\n{text}\n{printed}")))?;
            prop_assert!(back.eq_ignoring_lines(&s), "{}\n---\n{}", text, printed);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(s) = parse(&bytes) {
                if let Ok(t) = s.to_text() {
                    let back = parse(t.as_bytes()).unwrap();
                    let again = parse(back.to_text().unwrap().as_bytes()).unwrap();
                    prop_assert!(again.eq_ignoring_lines(&back));
                }
            }
        }

        #[test]
        fn any_bytes_survive_quote_and_parse(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let text = format!(":put {}", quote_value(&bytes));
            let s = parse(text.as_bytes()).unwrap();
            prop_assert_eq!(s.commands.len(), 1);
            let CommandKind::Keyword(k) = &s.commands[0].kind else { panic!() };
            prop_assert_eq!(k.args.len(), 1);
            let Arg::Positional(v) = &k.args[0] else { panic!() };
            prop_assert_eq!(v.literal().unwrap(), bytes);
        }

        #[test]
        fn generated_commands_round_trip(cmds in proptest::collection::vec(command(), 1..6)) {
            let script = Script {
                commands: cmds
                    .into_iter()
                    .map(|m| ScriptCommand { line: 0, kind: CommandKind::Menu(m) })
                    .collect(),
            };
            let text = script.to_text().unwrap();
            let back = parse(text.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            // Selector values that would read as ids/numbers are printed
            // quoted; compare through one more print/parse to allow that.
            let again = parse(back.to_text().unwrap().as_bytes()).unwrap();
            prop_assert!(again.eq_ignoring_lines(&back), "{}", text);
            prop_assert_eq!(back.commands.len(), script.commands.len());
            for (a, b) in script.commands.iter().zip(&back.commands) {
                let (a, b) = (a.as_menu().unwrap(), b.as_menu().unwrap());
                prop_assert_eq!(&a.path, &b.path);
                prop_assert_eq!(&a.verb, &b.verb);
                prop_assert_eq!(&a.args, &b.args, "{}", text);
            }
        }
    }
}
