//! `import`, `backup` and `config log|show|diff|search|restore|check|rule` as a technician runs them
//! against simulated routers seeded from a real-shaped export.

use routeros::{Client, Command, ConnectOptions};
use routeros_sim::{SimConfig, SimFleet};

mod common;
use common::{cli, s};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/rsc")
        .join(name);
    std::fs::read(&path).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_and_history_from_the_command_line() {
    let sim = SimFleet::start(SimConfig {
        devices: 2,
        password: "s3cret".into(),
        seeds: vec![fixture("v7-vlan-switch.rsc")],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let store = format!("sqlite://{}/fleet.db", data);
    let list = dir.path().join("routers.txt");
    std::fs::write(
        &list,
        sim.ports()
            .iter()
            .map(|p| format!("127.0.0.1:{p}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let env = || {
        vec![
            ("RPW", "s3cret".to_owned()),
            ("FLEETDECK_DATA_DIR", data.clone()),
        ]
    };

    let out = cli(
        s(&[
            "import",
            list.to_str().unwrap(),
            "--password-env",
            "RPW",
            "--store",
            &store,
        ]),
        env(),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 routers added"));

    let backup = |extra: &'static [&'static str]| {
        let mut a = s(&["backup", "--store", &store, "--json"]);
        a.extend(extra.iter().map(|x| x.to_string()));
        cli(a, env())
    };
    // The schedule (daily, the default) finds every router due at first,
    // as cron runs it; right after, none.
    let out = backup(&["--due"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(first["newVersions"], 2, "{first}");
    let out = cli(s(&["backup", "--due", "--store", &store]), env()).await;
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no router is due"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let device = first["routers"][0]["deviceId"].as_str().unwrap().to_owned();
    let port = first["routers"][0]["name"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let v1 = first["routers"][0]["versionId"]
        .as_str()
        .unwrap()
        .to_owned();

    // Someone changes the router outside Fleetdeck.
    let c = Client::connect(&ConnectOptions::new(
        "127.0.0.1",
        port.parse().unwrap(),
        "admin",
        "s3cret",
    ))
    .await
    .unwrap();
    c.run(
        &Command::new("/ip/address/add")
            .attr("address", "192.0.2.9/24")
            .attr("interface", "br-trunk"),
    )
    .await
    .unwrap();
    let out = backup(&[]).await;
    let second: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (second["newVersions"].as_u64(), second["drift"].as_u64()),
        (Some(1), Some(1)),
        "{second}"
    );

    let out = cli(
        s(&[
            "config", "log", "--device", &device, "--store", &store, "--json",
        ]),
        env(),
    )
    .await;
    let log: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["drift"], true);
    assert_eq!(log[1]["id"].as_str(), Some(v1.as_str()));

    let out = cli(
        s(&[
            "config",
            "show",
            "--device",
            &device,
            "--version",
            &v1,
            "--store",
            &store,
        ]),
        env(),
    )
    .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("vlan-id=99") && !text.contains("192.0.2.9"),
        "{text}"
    );

    let out = cli(
        s(&[
            "config", "diff", "--device", &device, &v1, "--store", &store,
        ]),
        env(),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("+/ip address add address=192.0.2.9/24"),
        "{diff}"
    );
    assert!(diff.contains("the router now"), "{diff}");

    let out = cli(
        s(&["config", "search", "192.0.2.9", "--store", &store]),
        env(),
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = String::from_utf8_lossy(&out.stdout);
    assert_eq!(found.lines().count(), 1, "{found}");
    assert!(
        found.contains("/ip address add address=192.0.2.9/24"),
        "{found}"
    );
    let out = cli(
        s(&["config", "search", "nothing-like-this", "--store", &store]),
        env(),
    )
    .await;
    assert!(!out.status.success());

    // Restore v1: the preview shows the address going and changes nothing;
    // --yes pushes it, and the router's export equals v1 again.
    let restore = |extra: &[&str]| {
        let mut a = s(&[
            "config", "restore", "--device", &device, &v1, "--store", &store,
        ]);
        a.extend(s(extra));
        cli(a, env())
    };
    let out = restore(&[]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let preview = String::from_utf8_lossy(&out.stdout);
    assert!(
        preview.contains("-/ip address add address=192.0.2.9/24")
            && preview.contains("1 of them removals; run again with --yes"),
        "{preview}"
    );
    let still = c
        .run(&Command::new("/ip/address/print").proplist(["address"]))
        .await
        .unwrap();
    assert!(still
        .rows
        .iter()
        .any(|r| r.get("address").as_deref() == Some("192.0.2.9/24")));
    let out = restore(&["--yes", "--json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(done["check"]["kind"], "equal", "{done}");
    assert_eq!(done["push"]["status"], "succeeded", "{done}");
    let gone = c
        .run(&Command::new("/ip/address/print").proplist(["address"]))
        .await
        .unwrap();
    assert!(!gone
        .rows
        .iter()
        .any(|r| r.get("address").as_deref() == Some("192.0.2.9/24")));
    let out = restore(&[]).await;
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("already holds version"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Compliance from the command line: rules added, the check over the
    // stored versions (exit status 1 on a broken rule), a rule switched off.
    let rule = |args: &[&str]| {
        let mut a = s(&["config", "rule"]);
        a.extend(s(args));
        a.extend(s(&["--store", &store]));
        cli(a, env())
    };
    for args in [
        &["add", "--name", "vlan 99", "--must-contain", "vlan-id=99"][..],
        &[
            "add",
            "--name",
            "no test net",
            "--must-not-contain",
            "192.0.2.",
        ][..],
        &[
            "add",
            "--name",
            "dns",
            "--path",
            "/ip dns",
            "--property",
            "servers",
            "--equals",
            "10.99.0.1",
        ][..],
    ] {
        let out = rule(args).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = rule(&["add", "--name", "nothing"]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--must-contain"));
    let check = || cli(s(&["config", "check", "--store", &store, "--json"]), env());
    let out = check().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for r in report["rules"].as_array().unwrap() {
        assert_eq!(
            (r["passed"].as_u64(), r["failed"].as_u64()),
            (Some(2), Some(0)),
            "{r}"
        );
    }
    c.run(
        &Command::new("/ip/address/add")
            .attr("address", "192.0.2.77/24")
            .attr("interface", "br-trunk"),
    )
    .await
    .unwrap();
    assert!(backup(&[]).await.status.success());
    let out = cli(s(&["config", "check", "--store", &store]), env()).await;
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAILS \"no test net\": line") && text.contains("192.0.2.77/24"),
        "{text}"
    );
    let out = rule(&["disable", "no test net"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(check().await.status.success());
    let out = rule(&["list"]).await;
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.contains("no test net") && list.contains("(off)"),
        "{list}"
    );

    // Sealed exports: none until the setting is on; then `show
    // --sensitive` opens the newest version's sealed copy.
    let show_sealed = || {
        cli(
            s(&[
                "config",
                "show",
                "--device",
                &device,
                "--sensitive",
                "--store",
                &store,
            ]),
            env(),
        )
    };
    let out = show_sealed().await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no sealed export"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        dir.path().join("settings.json"),
        r#"{"settings": {"sensitiveBackups": true}}"#,
    )
    .unwrap();
    assert!(backup(&[]).await.status.success());
    let out = show_sealed().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("/interface vlan add"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A router that cannot be reached fails the run, in words.
    drop(sim);
    let out = backup(&[]).await;
    assert!(!out.status.success());
    let third: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(third["failed"], 2, "{third}");
    assert!(
        third["routers"][0]["message"].as_str().unwrap().len() > 10,
        "{third}"
    );
}
