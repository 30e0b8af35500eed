//! Config text out of a router and scripts into it, against the simulator:
//! every export method, uploads, `/import` with dry runs, the failing line,
//! and an export file of our own fixtures (tests/fixtures/rsc).

use routeros::{Client, Command, ConnectOptions, ExportMethod};
use routeros_sim::{SimConfig, SimFleet};

async fn fleet(versions: &[&str]) -> SimFleet {
    SimFleet::start(SimConfig {
        devices: versions.len(),
        password: "pw".into(),
        versions: versions.iter().map(|v| v.to_string()).collect(),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

async fn login(port: u16) -> Client {
    Client::connect(&ConnectOptions::new("127.0.0.1", port, "admin", "pw"))
        .await
        .unwrap()
}

fn text(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap()
}

/// Drops the header lines that differ between exports of equal configs.
fn body(export: &str) -> String {
    export
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn every_export_method_returns_the_same_configuration() {
    let sim = fleet(&["7.16.2", "6.49.7"]).await;
    let c = login(sim.port(0)).await;
    c.run(&Command::new("/system/identity/set").attr("name", "site \"A\" $core"))
        .await
        .unwrap();
    let as_string = text(c.export_text(ExportMethod::AsString).await.unwrap());
    let file_read = text(c.export_text(ExportMethod::FileRead).await.unwrap());
    let inline = text(c.export_text(ExportMethod::InlineContents).await.unwrap());
    let auto = text(c.export_text(ExportMethod::Auto).await.unwrap());
    assert!(
        as_string.contains("/system identity\nset name=\"site \\\"A\\\" \\$core\"\n"),
        "{as_string}"
    );
    for other in [&file_read, &inline, &auto] {
        assert_eq!(body(other), body(&as_string));
    }
    // The temporary export file is cleaned up.
    let files = c.run(&Command::new("/file/print")).await.unwrap();
    assert!(files.rows.is_empty(), "{:?}", files.rows);
    // RouterOS 6: no as-string; Auto falls back to the file's contents.
    let old = login(sim.port(1)).await;
    let v6 = text(old.export_text(ExportMethod::Auto).await.unwrap());
    assert!(v6.contains("by RouterOS 6.49.7"));
    assert!(old
        .export_text(ExportMethod::AsString)
        .await
        .unwrap_err()
        .is_trap());
}

#[tokio::test]
async fn import_dry_run_then_real_and_the_failing_line() {
    let sim = fleet(&["7.16.2", "7.9"]).await;
    let c = login(sim.port(0)).await;
    let script = b"/interface bridge\nadd name=br-lan\n/ip address\nadd address=10.1.0.1/24 interface=br-lan comment=\"LAN gateway\"\n/system identity\nset name=site-7\n";
    c.upload_file("bootstrap.rsc", script).await.unwrap();
    let dry = c.import_file("bootstrap.rsc", true).await.unwrap();
    assert!(dry.contains("dry run"), "{dry}");
    assert_eq!(
        sim.device(0).identity(),
        "sim-router-0000",
        "a dry run changes nothing"
    );
    let real = c.import_file("bootstrap.rsc", false).await.unwrap();
    assert!(real.contains("3 commands executed"), "{real}");
    assert_eq!(sim.device(0).identity(), "site-7");
    let addrs = sim.device(0).items("ip/address");
    assert_eq!(addrs[0].get_str("comment").as_deref(), Some("LAN gateway"));

    // Line 3 fails; lines 1-2 stay applied (imports are not transactional).
    let bad = b"/system identity set name=half-done\n/interface bridge add name=br2\n/ip address add address=10.2.0.1/24 interface=nope\n/system identity set name=never\n";
    c.upload_file("bad.rsc", bad).await.unwrap();
    let err = c.import_file("bad.rsc", false).await.unwrap_err();
    assert!(err.is_trap());
    let msg = err.to_string();
    assert!(
        msg.contains("input does not match any value of interface (/ip/address/add; line 3)"),
        "{msg}"
    );
    assert_eq!(sim.device(0).identity(), "half-done");

    c.upload_file("syntax.rsc", b"/system identity\nset name=\"unterminated\n")
        .await
        .unwrap();
    let err = c.import_file("syntax.rsc", false).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("Script Error: syntax error (line 2"),
        "{err}"
    );
    let err = c.import_file("missing.rsc", false).await.unwrap_err();
    assert!(err.to_string().contains("file does not exist"));

    // Dry runs arrived in 7.16.
    let old = login(sim.port(1)).await;
    old.upload_file("b.rsc", script).await.unwrap();
    assert!(old
        .import_file("b.rsc", true)
        .await
        .unwrap_err()
        .to_string()
        .contains("unknown parameter"));
}

#[tokio::test]
async fn export_from_one_router_imports_into_another_identically() {
    let sim = fleet(&["7.16.2", "7.16.2"]).await;
    let a = login(sim.port(0)).await;
    let b = login(sim.port(1)).await;
    let setup = b"/interface bridge add name=core\n/ip address add address=192.0.2.1/24 interface=core\n/system scheduler add name=nightly interval=1d on-event=\"/system backup save name=nightly\"\n/system identity set name=\"edge \\E9t\\E9\"\n";
    a.upload_file("s.rsc", setup).await.unwrap();
    a.import_file("s.rsc", false).await.unwrap();
    let exported = a.export_text(ExportMethod::AsString).await.unwrap();
    b.upload_file("from-a.rsc", &exported).await.unwrap();
    b.import_file("from-a.rsc", false).await.unwrap();
    let again = b.export_text(ExportMethod::AsString).await.unwrap();
    assert_eq!(body(&text(again)), body(&text(exported)));
    // Non-ASCII bytes survive as bytes (\E9 escapes), not as mojibake.
    let identity = sim.device(1).items("system/identity");
    assert_eq!(identity[0].get("name"), Some(&b"edge \xE9t\xE9"[..]));
}

/// An export of our own fixtures (a v7 VLAN switch), uploaded and
/// `/import`ed: the menus the simulator models land as the router would
/// hold them, and the others (VLAN interfaces, bridge VLANs, SNMP) are kept
/// as they were given and exported back in the script's order.
#[tokio::test]
async fn an_export_file_imports_and_keeps_every_menu() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/rsc/v7-vlan-switch.rsc");
    let export = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let sim = fleet(&["7.16.2"]).await;
    let c = login(sim.port(0)).await;
    c.upload_file("switch.rsc", &export).await.unwrap();
    let report = c.import_file("switch.rsc", false).await.unwrap();
    assert!(
        report.contains("11 commands executed, 0 not modelled"),
        "{report}"
    );
    let d = sim.device(0);
    let vlans = d.items("interface/vlan");
    assert_eq!(vlans.len(), 1);
    assert_eq!(vlans[0].get_str("vlan-id").as_deref(), Some("99"));
    assert_eq!(
        d.items("snmp")[0].get_str("trap-version").as_deref(),
        Some("2")
    );
    // Over the API too, as a router lists them.
    let rows = c
        .run(&routeros::Command::new("/interface/bridge/vlan/print"))
        .await
        .unwrap();
    assert_eq!(rows.rows.len(), 2);
    assert_eq!(
        rows.rows[1].get("untagged").as_deref(),
        Some("ether3,ether4")
    );
    let exported = text(c.export_text(ExportMethod::AsString).await.unwrap());
    let vlan_at = exported.find("/interface vlan\nadd interface=br-trunk name=mgmt vlan-id=99\n");
    let bridge_at = exported.find("/interface bridge\nadd name=br-trunk vlan-filtering=yes\n");
    assert!(bridge_at.is_some() && vlan_at > bridge_at, "{exported}");
    assert!(
        exported.contains("/snmp\nset enabled=yes trap-version=2\n"),
        "{exported}"
    );
    assert_eq!(d.identity(), "switch-07");
    let ports = d.items("interface/bridge/port");
    let pvids: Vec<(String, String)> = ports
        .iter()
        .filter(|p| p.get_str("bridge").as_deref() == Some("br-trunk"))
        .map(|p| (p.get_str("interface").unwrap(), p.get_str("pvid").unwrap()))
        .collect();
    assert_eq!(
        pvids,
        [
            ("ether2".to_string(), "10".to_string()),
            ("ether3".into(), "20".into()),
            ("ether4".into(), "20".into())
        ]
    );
    let addresses = d.items("ip/address");
    assert!(
        addresses
            .iter()
            .any(|a| a.get_str("address").as_deref() == Some("10.99.0.2/24")),
        "{addresses:?}"
    );
}
