//! A simulated router seeded from an export holds everything the export
//! says, menus the simulator does not model included, and exports it back:
//! the same commands in the same order (compared with
//! `export_commands`, which reads both as RouterOS reads them).

use routeros_proto::script::export_commands;
use routeros_sim::{Device, ExportOptions};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/rsc")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The commands a router holding `original` exports: each item once, so a
/// positional `set` of an item the text itself added earlier (our v6
/// fixture does this to `/ip dhcp-client`) is folded into that `add`, as a
/// real router prints it.
fn as_a_router_prints(original: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in export_commands(original).unwrap() {
        let folded = c.split_once(" set #0 ").and_then(|(menu, props)| {
            let at = out
                .iter()
                .position(|l| l.starts_with(&format!("{menu} add ")))?;
            out[at] = format!("{} {props}", out[at]);
            Some(())
        });
        if folded.is_none() {
            out.push(c);
        }
    }
    out
}

fn show_all() -> ExportOptions {
    ExportOptions {
        sensitive: Some(true),
        ..ExportOptions::default()
    }
}

#[test]
fn every_fixture_export_round_trips_in_its_own_layout() {
    for (name, version, options) in [
        ("v6-home-router-crlf.rsc", "6.49.7", show_all()),
        ("v7-vlan-switch.rsc", "7.16.2", show_all()),
        (
            "v7-terse-scripts.rsc",
            "7.16.2",
            ExportOptions {
                terse: true,
                ..show_all()
            },
        ),
        (
            "v7-verbose-wrapped.rsc",
            "7.19.1",
            ExportOptions {
                verbose: true,
                ..show_all()
            },
        ),
    ] {
        let original = fixture(name);
        let device = Device::new(0, version);
        let ran = device.seed(&original).unwrap();
        assert_eq!(
            ran,
            export_commands(&original).unwrap().len(),
            "{name}: every command seeded"
        );
        let want = as_a_router_prints(&original);
        let exported = device.export_with(options);
        assert_eq!(
            export_commands(exported.as_bytes()).unwrap(),
            want,
            "{name}:\n{exported}"
        );
        // The layout is the one asked for: sections or a path on every
        // line; lines wrapped at 80 columns unless terse.
        let body: Vec<&str> = exported.lines().filter(|l| !l.starts_with('#')).collect();
        if options.terse {
            assert!(
                body.iter().all(|l| l.starts_with("/") && l.contains(' ')),
                "{name}"
            );
        } else {
            assert!(
                body.iter().all(|l| l.len() <= 82 || !l.contains("\" ")),
                "{name}"
            );
            assert!(
                body.iter()
                    .any(|l| l.starts_with("add ") || l.starts_with("set ")),
                "{name}"
            );
        }
    }
}

#[test]
fn a_sectioned_export_prints_terse_with_the_same_commands() {
    let original = fixture("v6-home-router-crlf.rsc");
    let device = Device::new(0, "6.49.7");
    device.seed(&original).unwrap();
    let terse = device.export_with(ExportOptions {
        terse: true,
        ..show_all()
    });
    assert_eq!(
        export_commands(terse.as_bytes()).unwrap(),
        as_a_router_prints(&original)
    );
    assert!(terse
        .lines()
        .filter(|l| !l.starts_with('#'))
        .all(|l| l.starts_with('/')));
}

#[test]
fn secrets_are_hidden_as_the_version_does_unless_shown() {
    let export = b"/interface wireless security-profiles\nset [ find default=yes ] supplicant-identity=MikroTik\nadd authentication-types=wpa2-psk mode=dynamic-keys name=home wpa2-pre-shared-key=\"s3cret pass\"\n/ppp secret\nadd name=alice password=hunter2 service=pppoe\n";
    for (version, shown_by_default) in [("6.49.7", true), ("7.16.2", false)] {
        let device = Device::new(0, version);
        device.seed(export).unwrap();
        let default = device.export();
        assert_eq!(default.contains("hunter2"), shown_by_default, "{version}");
        assert_eq!(default.contains("s3cret"), shown_by_default, "{version}");
        let hidden = device.export_with(ExportOptions {
            sensitive: Some(false),
            ..ExportOptions::default()
        });
        assert!(
            !hidden.contains("hunter2") && !hidden.contains("password="),
            "{hidden}"
        );
        assert!(hidden.contains("add name=alice service=pppoe"), "{hidden}");
        let shown = device.export_with(show_all());
        assert_eq!(
            export_commands(shown.as_bytes()).unwrap(),
            export_commands(export).unwrap()
        );
    }
}

#[test]
fn positions_flags_unsets_and_ids_come_back_as_the_export_wrote_them() {
    let export = b"/interface ethernet\nset [ find default-name=ether5 ] name=ether1\nset [ find default-name=ether1 ] name=wan\n/routing table\nadd fib name=to_WAN\n/system logging action\nset 3 remote=10.0.0.9\nadd name=central target=remote\n/system logging\nset 0 action=remote\nadd action=remote topics=critical\n/ppp profile\nset *0 only-one=yes\n/ip firewall nat\nadd action=masquerade chain=srcnat !routing-mark out-interface=wan\n/queue interface\nset ether1 queue=no-queue\n/interface bridge\nadd name=br1\n/queue interface\nset br1 queue=no-queue\n";
    let device = Device::new(0, "7.16.2");
    device.seed(export).unwrap();
    let out = device.export();
    assert_eq!(
        export_commands(out.as_bytes()).unwrap(),
        export_commands(export).unwrap(),
        "{out}"
    );
    // The router holds them as items: four logging actions, the fourth set.
    let actions = device.items("system/logging/action");
    assert_eq!(actions.len(), 5);
    assert_eq!(actions[3].get_str("remote").as_deref(), Some("10.0.0.9"));
    assert_eq!(actions[4].get_str("name").as_deref(), Some("central"));
    // The ports were renamed in the export's order (a rotation RouterOS
    // prints as it holds it).
    let ports = device.items("interface");
    let ether5 = ports
        .iter()
        .find(|p| p.get_str("default-name").as_deref() == Some("ether5"))
        .unwrap();
    assert_eq!(ether5.get_str("name").as_deref(), Some("ether1"));
}

#[test]
fn a_factory_seed_holds_the_hardware_and_none_of_the_settings() {
    let original = fixture("v7-verbose-wrapped.rsc");
    let device = Device::new(0, "7.19.1");
    device.seed_factory(&original).unwrap();
    let ether1 = device
        .items("interface")
        .into_iter()
        .find(|p| p.get_str("default-name").as_deref() == Some("ether1"))
        .unwrap();
    assert_eq!(ether1.get_str("name").as_deref(), Some("ether1"));
    assert_eq!(ether1.get_str("rx-flow-control"), None);
    assert!(device.items("interface/list").is_empty());
    assert!(
        export_commands(device.export().as_bytes())
            .unwrap()
            .is_empty(),
        "{}",
        device.export()
    );
}
