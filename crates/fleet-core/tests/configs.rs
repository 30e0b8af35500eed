//! Configuration history on simulated routers seeded from real-shaped
//! exports, on both stores: a backup run stores one version per router, a
//! second run with nothing changed stores none, a change made through the
//! plain API outside Fleetdeck is one new version flagged as drift (and
//! an alert), a push keeps its own backup as a version and what it made
//! as the next, attributed to it, a router that
//! refuses is reported with its words and backed up on the next run.

#[path = "../../fleet-store/tests/common/mod.rs"]
mod common;

use std::{sync::Arc, time::Duration};

use fleet_core::{
    backup_schedule::{BackupSchedule, ScheduleOverride},
    compliance::{RuleCheck, RuleInput, RuleScope},
    configs::{BackupOptions, BackupOutcome, BackupReport},
    credentials::{CredentialStore, Sensitive},
    provision::PushSpec,
    restore::{RestoreCheck, RestoreOptions},
    Fleet,
};
use fleet_store::{FleetStore, StoreUrl};
use routeros::{Client, Command, ConnectOptions};
use routeros_sim::{Faults, SimConfig, SimFleet};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/rsc")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn outcome_of<'a>(r: &'a BackupReport, device: &str) -> &'a BackupOutcome {
    &r.routers
        .iter()
        .find(|b| b.device_id == device)
        .unwrap_or_else(|| panic!("{device} not in {r:?}"))
        .outcome
}

/// A fleet on `store` whose inventory is two simulated routers (`sim`,
/// password `pw`) and a third that is never reachable (127.0.0.1:1),
/// tagged `tags` in that order (`;` between tags), their passwords kept;
/// the three ids in that order.
async fn three_routers(
    store: FleetStore,
    dir: &std::path::Path,
    sim: SimConfig,
    tags: [&str; 3],
) -> (Fleet, SimFleet, [String; 3]) {
    let fleet = Fleet::new(store, CredentialStore::file(dir.join("c.json")));
    let sim = SimFleet::start(SimConfig {
        devices: 2,
        password: "pw".into(),
        ..sim
    })
    .await
    .unwrap();
    let ports = [sim.port(0), sim.port(1), 1];
    let csv: String = std::iter::once("host,port,tags\n".to_owned())
        .chain(
            ports
                .iter()
                .zip(tags)
                .map(|(p, t)| format!("127.0.0.1,{p},{t}\n")),
        )
        .collect();
    let pw = Sensitive::new("pw".to_owned());
    fleet
        .import_inventory(&csv, "admin", Some(&pw))
        .await
        .unwrap();
    let devices = fleet.store().list_devices().await.unwrap();
    let ids = ports.map(|port| devices.iter().find(|d| d.port == port).unwrap().id.clone());
    (fleet, sim, ids)
}

async fn history_on(store: FleetStore, dir: &std::path::Path) {
    let fleet = Arc::new(Fleet::new(store, CredentialStore::file(dir.join("c.json"))));
    let sim = SimFleet::start(SimConfig {
        devices: 2,
        password: "pw".into(),
        versions: vec!["7.16.2".into(), "6.49.7".into()],
        seeds: vec![
            fixture("v7-vlan-switch.rsc"),
            fixture("v6-home-router-crlf.rsc"),
        ],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let text: String = sim
        .ports()
        .iter()
        .map(|p| format!("127.0.0.1:{p}\n"))
        .collect();
    // As a technician adds them: the inventory with its password kept.
    fleet
        .import_inventory(&text, "admin", Some(&Sensitive::new("pw".to_owned())))
        .await
        .unwrap();
    let targets = fleet
        .enroll(
            &fleet_core::targets::parse_text(&text).unwrap(),
            "admin",
            Some(&Sensitive::new("pw".to_owned())),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    let ids: Vec<String> = targets.iter().map(|t| t.device_id.clone()).collect();
    let opts = BackupOptions::default();

    // First run: a version per router, none of them drift.
    let first = fleet.backup(None, &opts).await.unwrap();
    assert_eq!(
        (first.new_versions, first.drift, first.failed),
        (2, 0, 0),
        "{first:?}"
    );
    let (v0, text0) = fleet.config_show(&ids[0], None).await.unwrap();
    assert!(text0.contains("vlan-id=99"), "{text0}");
    assert!(
        !text0.contains("by RouterOS"),
        "the header's timestamp is not kept"
    );
    assert!(
        v0.routeros_version
            .as_deref()
            .unwrap()
            .starts_with("7.16.2"),
        "{v0:?}"
    );
    assert!(v0.board.is_some() && v0.serial.is_some(), "{v0:?}");
    let (_, text1) = fleet.config_show(&ids[1], None).await.unwrap();
    assert!(text1.contains("name=home-gw"), "{text1}");

    // Search over every router's newest configuration.
    let hits = fleet.config_search("VLAN-ID=99", 50).await.unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].hit.device_id, ids[0]);
    assert!(
        hits[0].hit.line.starts_with("/interface vlan add"),
        "{hits:?}"
    );
    assert!(
        hits[0].hit.before.is_some() && hits[0].hit.after.is_some(),
        "{hits:?}"
    );
    let both = fleet
        .config_search("/interface bridge add", 50)
        .await
        .unwrap();
    let routers: std::collections::BTreeSet<&str> =
        both.iter().map(|h| h.hit.device_id.as_str()).collect();
    assert_eq!(routers.len(), 2, "{both:?}");
    assert!(fleet
        .config_search("no such thing anywhere", 50)
        .await
        .unwrap()
        .is_empty());
    // Two characters: found too, without the index.
    assert!(!fleet.config_search("99", 50).await.unwrap().is_empty());

    // Nothing changed: no new version.
    let second = fleet.backup(None, &opts).await.unwrap();
    assert_eq!(
        (second.new_versions, second.unchanged),
        (0, 2),
        "{second:?}"
    );

    // A change through the plain API, outside Fleetdeck: drift.
    let c = Client::connect(&ConnectOptions::new(
        "127.0.0.1",
        sim.port(0),
        "admin",
        "pw",
    ))
    .await
    .unwrap();
    c.run(&Command::new("/interface/bridge/add").attr("name", "rogue"))
        .await
        .unwrap();
    let third = fleet.backup(None, &opts).await.unwrap();
    assert_eq!((third.new_versions, third.drift), (1, 1), "{third:?}");
    let BackupOutcome::Changed {
        version_id: drifted,
        push_id: None,
        drift: true,
    } = outcome_of(&third, &ids[0]).clone()
    else {
        panic!("{third:?}")
    };
    let alerts = fleet
        .store()
        .audit_events(Some(&ids[0]), 0, 50)
        .await
        .unwrap();
    assert!(
        alerts
            .iter()
            .any(|e| e.action.as_str() == "alert.config-drift" && e.detail.contains(&drifted)),
        "{alerts:?}"
    );
    let d = fleet
        .config_diff(&ids[0], &v0.id, Some(&drifted))
        .await
        .unwrap();
    let added: Vec<&str> = d
        .diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    assert_eq!(added.len(), 1, "{}", d.diff);
    assert!(added[0].contains("name=rogue"), "{}", d.diff);
    // Against the router now: the same as the newest version.
    let live = fleet.config_diff(&ids[0], &drifted, None).await.unwrap();
    assert!(live.diff.is_empty(), "{}", live.diff);
    let log = fleet.config_log(&ids[0], 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].id, drifted, "newest first");

    // A change outside Fleetdeck, then a push before any backup: the
    // push's own backup is a version (the drift, not the push's), and what
    // the push made is the next, attributed to it.
    let c1 = Client::connect(&ConnectOptions::new(
        "127.0.0.1",
        sim.port(1),
        "admin",
        "pw",
    ))
    .await
    .unwrap();
    c1.run(&Command::new("/interface/bridge/add").attr("name", "rogue-b"))
        .await
        .unwrap();
    fleet
        .push_to(
            vec![targets[1].clone()],
            &PushSpec {
                template: "/interface bridge add name=pushed comment={{ c: string }}\n".into(),
                values: [("c".to_string(), "from-fleetdeck".to_string())].into(),
                import: false,
                waves: "100%".into(),
                concurrency: 1,
                stop_after: 0,
                confirm_within_minutes: 5,
                manual_confirm: false,
                dry_run: false,
            },
            None,
            |_| {},
        )
        .await
        .unwrap();
    let push = fleet
        .store()
        .push_records(Some(&ids[1]), 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(push.status.as_str(), "succeeded", "{push:?}");
    let log1 = fleet.config_log(&ids[1], 10).await.unwrap();
    assert_eq!(log1.len(), 3, "{log1:?}");
    assert_eq!(
        log1[0].push_id.as_deref(),
        Some(push.id.as_str()),
        "{log1:?}"
    );
    assert!(!log1[0].drift);
    assert!(log1[1].drift && log1[1].push_id.is_none(), "{log1:?}");
    let (_, before) = fleet.config_show(&ids[1], Some(&log1[1].id)).await.unwrap();
    assert!(
        before.contains("name=rogue-b") && !before.contains("name=pushed"),
        "{before}"
    );
    let (_, after) = fleet.config_show(&ids[1], None).await.unwrap();
    assert!(
        after.contains("name=pushed comment=from-fleetdeck"),
        "{after}"
    );
    // The router's history shows the push's backup as that version.
    let history = fleet.device_history(&ids[1]).await.unwrap();
    assert_eq!(history.backups.len(), 1, "{:?}", history.backups);
    assert_eq!(
        history.backups[0].version_id.as_deref(),
        Some(log1[1].id.as_str())
    );
    assert_eq!(history.backups[0].export, before);
    // The backup after it finds nothing new.
    let fourth = fleet.backup(None, &opts).await.unwrap();
    assert_eq!((fourth.new_versions, fourth.drift), (0, 0), "{fourth:?}");

    // A router that refuses is reported in its words, and backed up on the
    // next run.
    sim.device(0).set_faults(Faults {
        reject_login: true,
        ..Faults::default()
    });
    let refused = Client::connect(&ConnectOptions::new(
        "127.0.0.1",
        sim.port(0),
        "admin",
        "pw",
    ))
    .await;
    assert!(refused.is_err());
    let fifth = fleet
        .backup(Some(vec![ids[0].clone()]), &opts)
        .await
        .unwrap();
    let BackupOutcome::Failed { message } = outcome_of(&fifth, &ids[0]) else {
        panic!("{fifth:?}")
    };
    assert!(message.contains("password"), "{message}");
    assert_eq!(fifth.routers.len(), 1);
    sim.device(0).set_faults(Faults::default());
    c.run(&Command::new("/interface/bridge/add").attr("name", "rogue-2"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let sixth = fleet
        .backup(Some(vec![ids[0].clone()]), &opts)
        .await
        .unwrap();
    assert_eq!((sixth.new_versions, sixth.failed), (1, 0), "{sixth:?}");

    // Six versions, six texts, each kept once and compressed.
    let versions = fleet.store().config_versions(None, 100).await.unwrap();
    assert_eq!(versions.len(), 6);
    let (texts, bytes) = fleet.store().config_storage().await.unwrap();
    assert_eq!(texts, 6);
    let plain: usize = {
        let mut n = 0;
        for v in &versions {
            n += fleet
                .store()
                .config_text(&v.hash)
                .await
                .unwrap()
                .unwrap()
                .len();
        }
        n
    };
    assert!(
        bytes < plain as u64,
        "{bytes} compressed bytes for {plain} of text"
    );
}

/// Restore: a router changed outside Fleetdeck in several ways (identity,
/// an extra bridge, a firewall rule disabled and one added, a DNS setting
/// the version leaves at its default) is converged to its earlier
/// version through the push engine; its export then equals that version.
async fn restore_on(store: FleetStore, dir: &std::path::Path) {
    let fleet = Arc::new(Fleet::new(store, CredentialStore::file(dir.join("c.json"))));
    let sim = SimFleet::start(SimConfig {
        devices: 1,
        password: "pw".into(),
        versions: vec!["6.49.7".into()],
        seeds: vec![fixture("v6-home-router-crlf.rsc")],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let text = format!("127.0.0.1:{}\n", sim.port(0));
    let pw = Sensitive::new("pw".to_owned());
    fleet
        .import_inventory(&text, "admin", Some(&pw))
        .await
        .unwrap();
    let id = fleet.store().list_devices().await.unwrap()[0].id.clone();
    let opts = BackupOptions::default();
    fleet.backup(None, &opts).await.unwrap();
    let (v1, text1) = fleet.config_show(&id, None).await.unwrap();

    let c = Client::connect(&ConnectOptions::new(
        "127.0.0.1",
        sim.port(0),
        "admin",
        "pw",
    ))
    .await
    .unwrap();
    c.run(&Command::new("/system/identity/set").attr("name", "hacked"))
        .await
        .unwrap();
    c.run(&Command::new("/interface/bridge/add").attr("name", "rogue"))
        .await
        .unwrap();
    let rules = c
        .run(&Command::new("/ip/firewall/filter/print").proplist([".id"]))
        .await
        .unwrap();
    let first = rules.rows[0].get(".id").unwrap().into_owned();
    c.run(
        &Command::new("/ip/firewall/filter/set")
            .attr(".id", &first)
            .attr("disabled", "yes"),
    )
    .await
    .unwrap();
    c.run(
        &Command::new("/ip/firewall/filter/add")
            .attr("chain", "forward")
            .attr("action", "drop")
            .attr("comment", "rogue-rule"),
    )
    .await
    .unwrap();
    c.run(&Command::new("/ip/dns/set").attr("servers", "9.9.9.9"))
        .await
        .unwrap();
    let drifted = fleet.backup(None, &opts).await.unwrap();
    assert_eq!(drifted.drift, 1, "{drifted:?}");

    // The preview: what is removed, and the router now against the version.
    let preview = fleet.restore_preview(&id, &v1.id).await.unwrap();
    assert_eq!(preview.version.id, v1.id);
    // The rogue bridge, the rogue rule and the disabled rule; the rules
    // after the disabled one come back in order.
    assert_eq!(preview.removals, 5, "{:#?}", preview.plan);
    for line in ["name=hacked", "name=rogue", "rogue-rule", "servers=9.9.9.9"] {
        assert!(
            preview
                .diff
                .lines()
                .any(|l| l.starts_with('-') && l.contains(line)),
            "{line} is shown going: {}",
            preview.diff
        );
    }
    assert!(preview
        .diff
        .lines()
        .any(|l| l.starts_with('+') && l.contains("name=home-gw")));
    // Nothing was changed by the preview.
    let (_, still) = fleet.config_show(&id, None).await.unwrap();
    assert!(still.contains("name=hacked"));

    let mut steps = 0;
    let report = fleet
        .restore(&id, &v1.id, &RestoreOptions::default(), |_| steps += 1)
        .await
        .unwrap();
    assert_eq!(
        report.push.status.as_str(),
        "succeeded",
        "{} {:?}",
        report.message,
        report.push.steps
    );
    assert_eq!(report.check, RestoreCheck::Equal, "{}", report.message);
    assert_eq!(steps, preview.plan.steps.len());
    // The router's export equals the version, read by a plain client.
    let export = c.export_text(routeros::ExportMethod::Auto).await.unwrap();
    assert_eq!(fleet_core::configs::stored_form(&export).unwrap(), text1);
    // The history: a new version, equal to v1, credited to the restore's push.
    let log = fleet.config_log(&id, 10).await.unwrap();
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(log[0].hash, v1.hash);
    assert_eq!(
        log[0].push_id.as_deref(),
        Some(report.push.push_id.as_str())
    );
    let events = fleet.store().audit_events(Some(&id), 0, 500).await.unwrap();
    let restored = events
        .iter()
        .find(|e| e.action.as_str() == "config.restored")
        .expect("the restore is audited");
    assert!(restored.detail.contains(&v1.id) && restored.detail.contains("equal"));
    // A backup now finds nothing new, and restoring again changes nothing.
    let after = fleet.backup(None, &opts).await.unwrap();
    assert_eq!((after.new_versions, after.unchanged), (0, 1), "{after:?}");
    let again = fleet.restore_preview(&id, &v1.id).await.unwrap();
    assert_eq!(again.removals, 0);
    assert!(again.diff.is_empty(), "{}", again.diff);

    // An id that is no version of this router.
    let e = fleet
        .restore_preview(&id, "0000000000000000")
        .await
        .unwrap_err();
    assert!(e.as_sentence().contains("no configuration version"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_converges_a_router_to_a_stored_version_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("f.db")))
        .await
        .unwrap();
    restore_on(store, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_converges_a_router_to_a_stored_version_on_the_shared_database() {
    let dir = tempfile::tempdir().unwrap();
    let (store, db) = common::mysql_store().await;
    restore_on(store, dir.path()).await;
    common::drop_mysql_db(&db).await;
}

/// Compliance rules over the routers' newest versions: scoped by tag, each
/// kind passing and failing on known strings, a router without a backup
/// counted unchecked (never passed), a change that breaks a rule raising
/// an alert, a rule switched off no longer checked.
async fn compliance_on(store: FleetStore, dir: &std::path::Path) {
    // The second router is tagged core; a third is never reachable.
    let (fleet, sim, [switch, home, gone]) = three_routers(
        store,
        dir,
        SimConfig {
            versions: vec!["7.16.2".into(), "6.49.7".into()],
            seeds: vec![
                fixture("v7-vlan-switch.rsc"),
                fixture("v6-home-router-crlf.rsc"),
            ],
            ..SimConfig::default()
        },
        ["access", "core;home", "core"],
    )
    .await;
    let rule = |name: &str, scope: RuleScope, check: RuleCheck| RuleInput {
        id: None,
        name: name.into(),
        scope,
        check,
        enabled: true,
    };
    let named = fleet
        .save_compliance_rule(&rule(
            "identity set",
            RuleScope::All,
            RuleCheck::MustContain {
                text: "/system identity set name=".into(),
            },
        ))
        .await
        .unwrap();
    fleet
        .save_compliance_rule(&rule(
            "core: masquerade on wan",
            RuleScope::Tag { tag: "core".into() },
            RuleCheck::PropertyEquals {
                path: "/ip firewall nat".into(),
                item: "comment=\"defconf: masquerade\"".into(),
                property: "out-interface".into(),
                value: "wan".into(),
            },
        ))
        .await
        .unwrap();
    let no_rogue = fleet
        .save_compliance_rule(&rule(
            "no rogue bridge",
            RuleScope::All,
            RuleCheck::MustNotContain {
                text: "name=rogue".into(),
            },
        ))
        .await
        .unwrap();
    // A rule that cannot be written is refused in words.
    let e = fleet
        .save_compliance_rule(&rule(
            "",
            RuleScope::All,
            RuleCheck::MustContain { text: "x".into() },
        ))
        .await
        .unwrap_err();
    assert!(e.as_sentence().contains("name"), "{e}");

    fleet.backup(None, &BackupOptions::default()).await.unwrap();
    let report = fleet.config_check(None).await.unwrap();
    let router = |id: &str| {
        report
            .routers
            .iter()
            .find(|r| r.device_id == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        router(&switch).outcomes.len(),
        2,
        "the tag rule is not for it"
    );
    assert_eq!(router(&home).outcomes.len(), 3);
    assert!(
        router(&home).outcomes.iter().all(|o| o.passed),
        "{report:#?}"
    );
    let masq = router(&home)
        .outcomes
        .into_iter()
        .find(|o| o.rule == "core: masquerade on wan")
        .unwrap();
    assert!(masq.detail.contains("out-interface is \"wan\""), "{masq:?}");
    assert!(router(&gone).version_id.is_none() && router(&gone).outcomes.is_empty());
    let summary = |name: &str| {
        report
            .rules
            .iter()
            .find(|r| r.name == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            summary("identity set").passed,
            summary("identity set").unchecked
        ),
        (2, 1)
    );
    assert_eq!(summary("core: masquerade on wan").unchecked, 1);
    assert_eq!(report.problems(), 3, "the unreachable router counts");

    // A rogue bridge on the switch: the next backup alerts once.
    let c = Client::connect(&ConnectOptions::new(
        "127.0.0.1",
        sim.port(0),
        "admin",
        "pw",
    ))
    .await
    .unwrap();
    c.run(&Command::new("/interface/bridge/add").attr("name", "rogue"))
        .await
        .unwrap();
    fleet
        .backup(Some(vec![switch.clone()]), &BackupOptions::default())
        .await
        .unwrap();
    let alerts: Vec<_> = fleet
        .store()
        .audit_events(Some(&switch), 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.as_str() == "alert.config-rule")
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(
        alerts[0].detail.contains("no rogue bridge") && alerts[0].detail.contains("name=rogue")
    );
    let report = fleet
        .config_check(Some(vec![switch.clone()]))
        .await
        .unwrap();
    assert_eq!(report.routers.len(), 1);
    assert_eq!(report.routers[0].failed(), 1);
    let status = fleet.backup_status().await.unwrap();
    let s = status.iter().find(|s| s.device_id == switch).unwrap();
    assert_eq!(s.rules_failed, vec!["no rogue bridge".to_owned()]);
    // Another change that still breaks it: no second alert.
    c.run(&Command::new("/interface/bridge/add").attr("name", "rogue-2"))
        .await
        .unwrap();
    fleet
        .backup(Some(vec![switch.clone()]), &BackupOptions::default())
        .await
        .unwrap();
    let alerts = fleet
        .store()
        .audit_events(Some(&switch), 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.as_str() == "alert.config-rule")
        .count();
    assert_eq!(alerts, 1);

    // Switched off: kept, not checked.
    fleet
        .save_compliance_rule(&RuleInput {
            id: Some(no_rogue.id.clone()),
            enabled: false,
            ..rule("no rogue bridge", RuleScope::All, no_rogue.check.clone())
        })
        .await
        .unwrap();
    let report = fleet.config_check(None).await.unwrap();
    assert!(report.rules.iter().all(|r| r.rule_id != no_rogue.id));
    let rules = fleet.compliance_rules().await.unwrap();
    assert_eq!(rules.len(), 3);
    assert!(rules.iter().any(|r| r.id == no_rogue.id && !r.enabled));
    assert!(rules.iter().any(|r| r.id == named.id && r.enabled));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_rules_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("f.db")))
        .await
        .unwrap();
    compliance_on(store, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_rules_on_the_shared_database() {
    let dir = tempfile::tempdir().unwrap();
    let (store, db) = common::mysql_store().await;
    compliance_on(store, dir.path()).await;
    common::drop_mysql_db(&db).await;
}

/// The schedule: every router is due at first; after a run, a router is
/// due again when its interval (its tag's, or the daily default) has
/// passed since its last attempt, a failed one included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_take_the_routers_that_are_due() {
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("f.db")))
        .await
        .unwrap();
    let (fleet, _sim, [core, plain, gone]) =
        three_routers(store, dir.path(), SimConfig::default(), ["core", "", ""]).await;
    let schedule = BackupSchedule {
        every_hours: 24,
        overrides: vec![ScheduleOverride {
            scope: RuleScope::Tag { tag: "core".into() },
            every_hours: 1,
        }],
    };
    let opts = BackupOptions::default();
    let first = fleet.backup_due(&schedule, &opts).await.unwrap().unwrap();
    assert_eq!((first.routers.len(), first.failed), (3, 1), "{first:?}");
    assert!(fleet.backup_due(&schedule, &opts).await.unwrap().is_none());
    let hour = 3_600_000;
    let now = fleet_core::poll::now_ms();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        fleet.backups_due(&schedule, now + 2 * hour).await.unwrap(),
        vec![core.clone()]
    );
    assert_eq!(
        sorted(fleet.backups_due(&schedule, now + 25 * hour).await.unwrap()),
        sorted(vec![core.clone(), plain.clone(), gone.clone()])
    );
    let off = BackupSchedule {
        every_hours: 0,
        ..schedule.clone()
    };
    assert_eq!(
        fleet.backups_due(&off, now + 25 * hour).await.unwrap(),
        vec![core]
    );
}

/// Opted-in sealed exports: the version keeps secrets masked, its sealed
/// copy opens on this machine only, no secret is in the store's files, a
/// secret changed outside Fleetdeck is a version of its own (drift), and a
/// restore brings the secret back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_exports_keep_secrets_out_of_the_store_and_restore_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("f.db")))
        .await
        .unwrap();
    let fleet = Fleet::new(store, CredentialStore::file(dir.path().join("c.json")));
    let sim = SimFleet::start(SimConfig {
        devices: 1,
        password: "pw".into(),
        versions: vec!["6.49.7".into()],
        seeds: vec![[
            fixture("v6-home-router-crlf.rsc"),
            b"/ppp secret\r\nadd name=alice password=Hunter2Secret service=pptp\r\n".to_vec(),
        ]
        .concat()],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let pw = Sensitive::new("pw".to_owned());
    fleet
        .import_inventory(&format!("127.0.0.1:{}\n", sim.port(0)), "admin", Some(&pw))
        .await
        .unwrap();
    let id = fleet.store().list_devices().await.unwrap()[0].id.clone();
    let c = Client::connect(&ConnectOptions::new(
        "127.0.0.1",
        sim.port(0),
        "admin",
        "pw",
    ))
    .await
    .unwrap();
    let sealed = BackupOptions {
        sensitive: true,
        ..BackupOptions::default()
    };
    let first = fleet.backup(None, &sealed).await.unwrap();
    assert_eq!(first.new_versions, 1, "{first:?}");
    let (v1, text) = fleet.config_show(&id, None).await.unwrap();
    assert!(text.contains("/ppp secret add name=alice"), "{text}");
    assert!(!text.contains("Hunter2Secret"), "{text}");
    let open = fleet.config_sealed(&id, None).await.unwrap().unwrap();
    assert!(
        open.expose().contains("password=Hunter2Secret"),
        "the sealed copy has it"
    );

    // The password changed by hand: the masked text is the same, the
    // secrets are not: a version of its own, flagged.
    c.run(
        &Command::new("/ppp/secret/set")
            .attr("numbers", "alice")
            .attr("password", "Changed0ut"),
    )
    .await
    .unwrap();
    let second = fleet.backup(None, &sealed).await.unwrap();
    assert_eq!((second.new_versions, second.drift), (1, 1), "{second:?}");
    let log = fleet.config_log(&id, 10).await.unwrap();
    assert_eq!(log[0].hash, v1.hash, "the masked text did not change");
    let alerts = fleet.store().audit_events(Some(&id), 0, 50).await.unwrap();
    assert!(
        alerts
            .iter()
            .any(|e| e.action.as_str() == "alert.config-drift"
                && e.detail.contains("secrets changed"))
    );
    // Unchanged since: nothing new.
    let third = fleet.backup(None, &sealed).await.unwrap();
    assert_eq!(third.new_versions, 0, "{third:?}");

    // Restoring the first version brings the first password back; the
    // preview shows no secret.
    let preview = fleet.restore_preview(&id, &v1.id).await.unwrap();
    let shown = serde_json::to_string(&preview).unwrap();
    assert!(
        !shown.contains("Hunter2Secret") && !shown.contains("Changed0ut"),
        "{shown}"
    );
    assert!(shown.contains("\"password\":\"***\""), "{shown}");
    let report = fleet
        .restore(&id, &v1.id, &RestoreOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(
        report.push.status.as_str(),
        "succeeded",
        "{}",
        report.message
    );
    assert_eq!(report.check, RestoreCheck::Equal, "{}", report.message);
    let secrets = c
        .run(&Command::new("/ppp/secret/print").proplist(["name", "password"]))
        .await
        .unwrap();
    assert_eq!(
        secrets.rows[0].get("password").as_deref(),
        Some("Hunter2Secret"),
        "the restore set the password back"
    );
    let log = fleet.config_log(&id, 10).await.unwrap();
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(
        log[0].push_id.as_deref(),
        Some(report.push.push_id.as_str())
    );
    assert!(!log[0].drift);

    // No secret in the store's files, sealed or not.
    for file in ["f.db", "f.db-wal"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
        for secret in [&b"Hunter2Secret"[..], b"Changed0ut"] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret),
                "a secret is in {file}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_history_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("f.db")))
        .await
        .unwrap();
    history_on(store, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_history_on_the_shared_database() {
    let dir = tempfile::tempdir().unwrap();
    let (store, db) = common::mysql_store().await;
    history_on(store, dir.path()).await;
    common::drop_mysql_db(&db).await;
}
