//! Peer check: a rendered template, hostile values included, read by the
//! Python `routeros-diff` parser (an independent implementation) finds the
//! same commands the plan compiles, and diffs against itself to nothing.
//!
//! routeros-diff 0.5.3 cannot print a value that contains a double quote
//! (its `quote()` asserts), so neither a `"` in a value nor a script
//! nested in `on-event=` (whose inner quotes it would meet) is part of
//! this check; our own round-trip tests (template.rs) cover those.

use std::{collections::BTreeMap, io::Write, process::Command};

use fleet_core::{
    plan::{self, Action},
    template::Template,
};

const TEMPLATE: &str = "/system identity
set name={{ id: name }}
/interface bridge
add name=bridge1 comment={{ note: string }}
/ip address
add address={{ lan: ipv4_cidr }} interface=bridge1 comment={{ note }}
/ip dns
set servers={{ dns: ipv4 }} allow-remote-requests=no
";

fn peer(text: &str) -> serde_json::Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/peer/routeros_diff_check.py"
    );
    let mut child = Command::new(routeros_sim::peer_python())
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "routeros-diff could not read:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn rendered_templates_parse_in_routeros_diff_and_diff_to_nothing() {
    let template = Template::parse(TEMPLATE).unwrap();
    let long = "x".repeat(2000);
    let hostile = [
        "plain",
        "$[/system reset-configuration]",
        "back\\slash and \\\\ two",
        "a ? question",
        "line one\nline two\r\ttab",
        "Café Zürich — 東京",
        "$name $(:put 1) [/system reboot]",
        long.as_str(),
    ];
    for note in hostile {
        let values: BTreeMap<String, String> = [
            ("id", "core-1"),
            ("note", note),
            ("lan", "192.168.88.1/24"),
            ("dns", "9.9.9.9"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let rendered = template.render(&values).unwrap().text;
        let plan = plan::compile(&rendered).unwrap();
        let found = peer(&rendered);
        let exprs = found["expressions"].as_array().unwrap();
        assert_eq!(exprs.len(), plan.steps.len(), "{note:?}: {found}");
        for (e, step) in exprs.iter().zip(&plan.steps) {
            let (menu, verb, keys): (&str, &str, Vec<&str>) = match &step.action {
                Action::FindOrAdd { menu, props, .. } => {
                    (menu, "add", props.iter().map(|(k, _)| k.as_str()).collect())
                }
                Action::SetSingleton { menu, props } => {
                    (menu, "set", props.iter().map(|(k, _)| k.as_str()).collect())
                }
                other => panic!("unexpected step {other:?}"),
            };
            // "/ip/address" is the section "/ip address" of an export.
            assert_eq!(e["path"], format!("/{}", menu[1..].replace('/', " ")));
            assert_eq!(e["command"], verb);
            let peer_keys: Vec<&str> = e["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap())
                .collect();
            assert_eq!(peer_keys, keys, "{note:?}");
        }
        assert_eq!(
            found["diff"], "",
            "{note:?}: a script diffs against itself to nothing"
        );
    }
}
