//! The push engine against a simulated router: backup, safety net, steps,
//! verify, confirm, and the audit trail; a failure that rolls back; a step
//! that never answers; a dry run.

use std::{collections::BTreeMap, time::Duration};

use fleet_core::{
    plan::{self, Outcome},
    push::{self, PushOptions, PushStatus},
    template::Template,
};
use fleet_store::{FleetStore, NewDevice, StoreUrl};
use routeros::{Client, Command, ConnectOptions};
use routeros_sim::{Faults, SimConfig, SimFleet};

const BOOTSTRAP: &str = r#"/system identity set name={{ id: name }}
/interface bridge add name=bridge1 comment={{ note: string }}
/interface bridge port add bridge=bridge1 interface=ether2
/ip address add address={{ lan: ipv4_cidr }} interface=bridge1
/system scheduler add name=hello interval=1d on-event="/log info \"{{ note }}\""
"#;

struct Env {
    _dir: tempfile::TempDir,
    store: FleetStore,
    sim: SimFleet,
    device_id: String,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("f.db")))
        .await
        .unwrap();
    let sim = SimFleet::start(SimConfig {
        reboot_delay: Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let device_id = store
        .add_device(&NewDevice {
            host: "127.0.0.1".into(),
            port: sim.port(0),
            username: "admin".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    Env {
        _dir: dir,
        store,
        sim,
        device_id,
    }
}

async fn connect(sim: &SimFleet) -> Client {
    let mut o = ConnectOptions::new("127.0.0.1", sim.port(0), "admin", "");
    o.command_timeout = Duration::from_millis(700);
    Client::connect(&o).await.unwrap()
}

fn bootstrap() -> plan::Plan {
    let values: BTreeMap<String, String> = [
        ("id", "site-9-core"),
        ("note", "new site"),
        ("lan", "192.168.99.1/24"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    plan::compile(
        &Template::parse(BOOTSTRAP)
            .unwrap()
            .render(&values)
            .unwrap()
            .text,
    )
    .unwrap()
}

async fn names(c: &Client, menu: &str) -> Vec<String> {
    c.run(&Command::new(format!("{menu}/print")))
        .await
        .unwrap()
        .rows
        .iter()
        .filter_map(|r| r.get("name").map(|n| n.into_owned()))
        .collect()
}

async fn actions(store: &FleetStore, device: &str) -> Vec<String> {
    let mut events = store.audit_events(Some(device), 0, 1000).await.unwrap();
    events.reverse();
    events.into_iter().map(|e| e.action.to_string()).collect()
}

#[tokio::test]
async fn a_push_backs_up_guards_applies_verifies_and_confirms() {
    let e = env().await;
    let client = connect(&e.sim).await;
    let mut seen = Vec::new();
    let report = push::push(
        &e.store,
        &client,
        &e.device_id,
        None,
        &bootstrap(),
        &PushOptions::default(),
        |s| seen.push(s.line),
    )
    .await;
    assert_eq!(report.status, PushStatus::Succeeded, "{}", report.message);
    assert_eq!(seen, vec![1, 2, 3, 4, 5], "progress per step");
    let backup = report.backup.clone().unwrap();
    assert!(
        !names(&client, "/file").await.contains(&backup),
        "the backup is removed once the push is confirmed"
    );
    let schedulers = names(&client, "/system/scheduler").await;
    assert_eq!(
        schedulers,
        vec!["hello"],
        "the safety net is gone once confirmed"
    );
    assert_eq!(
        names(&client, "/system/identity").await,
        vec!["site-9-core"]
    );

    let acts = actions(&e.store, &e.device_id).await;
    let expected: Vec<&str> = [
        "push.started",
        "push.preflight",
        "push.backup",
        "push.safety-net",
    ]
    .into_iter()
    .chain(std::iter::repeat_n("push.step", 5))
    .chain(["push.verified", "push.confirmed", "push.succeeded"])
    .collect();
    assert_eq!(acts, expected);
    let events = e
        .store
        .audit_events(Some(&e.device_id), 0, 100)
        .await
        .unwrap();
    let backup_event = events.iter().find(|ev| ev.action == "push.backup").unwrap();
    let detail: serde_json::Value = serde_json::from_str(&backup_event.detail).unwrap();
    let version = detail["version"].as_str().expect("the backup is a version");
    let versions = e
        .store
        .config_versions(Some(&e.device_id), 10)
        .await
        .unwrap();
    let before = versions.iter().find(|v| v.id == version).unwrap();
    let text = e.store.config_text(&before.hash).await.unwrap().unwrap();
    assert!(
        text.contains("name=sim-router-0000"),
        "the export before the push is kept: {text}"
    );
    // And what the push made is the newest version, credited to it.
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert_eq!(
        versions[0].push_id.as_deref(),
        Some(report.push_id.as_str())
    );
    let pushes = e.store.push_records(Some(&e.device_id), 10).await.unwrap();
    assert_eq!(pushes[0].status, "succeeded");
    assert!(pushes[0].finished_at.is_some());

    // Pushing again changes nothing and still succeeds.
    let again = push::push(
        &e.store,
        &client,
        &e.device_id,
        None,
        &bootstrap(),
        &PushOptions::default(),
        |_| {},
    )
    .await;
    assert_eq!(again.status, PushStatus::Succeeded);
    assert!(
        again.steps.iter().all(|s| s.outcome == Outcome::Unchanged),
        "{again:?}"
    );
    assert!(
        again.message.starts_with("0 of 5 steps changed"),
        "{}",
        again.message
    );
}

#[tokio::test]
async fn a_failed_step_restores_the_backup() {
    let e = env().await;
    let client = connect(&e.sim).await;
    let plan = plan::compile(
        "/system identity set name=half-done\n/interface bridge add name=br-x\n/ip address add address=10.9.9.1/24 interface=no-such-port\n",
    )
    .unwrap();
    let report = push::push(
        &e.store,
        &client,
        &e.device_id,
        None,
        &plan,
        &PushOptions::default(),
        |_| {},
    )
    .await;
    assert_eq!(report.status, PushStatus::RolledBack, "{}", report.message);
    assert!(
        report.message.starts_with("line 3: the router said:"),
        "{}",
        report.message
    );
    assert_eq!(report.steps.len(), 3);
    // The router reboots into the backup (the simulator's boot count, not
    // a clock): the first two steps are undone.
    let router = e.sim.device(0).clone();
    routeros_sim::wait::until(
        "the router to reboot into its backup and come back",
        routeros_sim::wait::DEADLINE,
        || {
            let d = router.clone();
            async move { d.boots() >= 1 && !d.is_rebooting() }
        },
    )
    .await;
    let client = connect(&e.sim).await;
    assert_eq!(
        names(&client, "/system/identity").await,
        vec!["sim-router-0000"]
    );
    assert!(!names(&client, "/interface/bridge")
        .await
        .contains(&"br-x".to_string()));
    let pushes = e.store.push_records(Some(&e.device_id), 10).await.unwrap();
    assert_eq!(pushes[0].status, "rolled-back");
}

/// A refusal whose words mention a connection (a menu under
/// `/ip firewall connection`) is the router saying no, not a lost router:
/// the push rolls back instead of reporting an unknown state.
#[tokio::test]
async fn a_trap_that_mentions_connections_is_a_refusal_not_a_lost_router() {
    let e = env().await;
    let client = connect(&e.sim).await;
    let plan = plan::compile(
        "/system identity set name=before-trap\n/ip firewall connection tracking set enabled=no\n",
    )
    .unwrap();
    let report = push::push(
        &e.store,
        &client,
        &e.device_id,
        None,
        &plan,
        &PushOptions::default(),
        |_| {},
    )
    .await;
    assert_eq!(report.status, PushStatus::RolledBack, "{}", report.message);
    assert!(
        report.message.contains("connection"),
        "the router's words are kept: {}",
        report.message
    );
    assert!(!actions(&e.store, &e.device_id)
        .await
        .contains(&"push.connection-lost".to_owned()));
}

#[tokio::test]
async fn a_step_that_never_answers_is_reported_as_unknown_and_the_net_stays() {
    let e = env().await;
    e.sim.device(0).set_faults(Faults {
        stall: vec!["/ip/address/print".into()],
        ..Faults::default()
    });
    let client = connect(&e.sim).await;
    let report = push::push(
        &e.store,
        &client,
        &e.device_id,
        None,
        &bootstrap(),
        &PushOptions::default(),
        |_| {},
    )
    .await;
    assert_eq!(report.status, PushStatus::Unknown, "{}", report.message);
    assert!(report.message.starts_with("line 4:"), "{}", report.message);
    assert!(
        report.message.contains("safety net restores the backup"),
        "{}",
        report.message
    );
    let schedulers = names(&client, "/system/scheduler").await;
    assert!(
        schedulers
            .iter()
            .any(|s| s.starts_with("fleetdeck-safety-")),
        "the safety net stays armed: {schedulers:?}"
    );
}

#[tokio::test]
async fn a_dry_run_writes_nothing() {
    let e = env().await;
    let client = connect(&e.sim).await;
    let opts = PushOptions {
        dry_run: true,
        ..PushOptions::default()
    };
    let report = push::push(
        &e.store,
        &client,
        &e.device_id,
        None,
        &bootstrap(),
        &opts,
        |_| {},
    )
    .await;
    assert_eq!(report.status, PushStatus::DryRun);
    assert_eq!(
        report.message,
        "dry run: 5 of 5 steps would change the router"
    );
    assert!(report.backup.is_none());
    assert_eq!(
        names(&client, "/system/identity").await,
        vec!["sim-router-0000"]
    );
    assert!(names(&client, "/system/scheduler").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_pushes_in_waves_and_a_failing_canary_stops_the_rest() {
    use fleet_core::{bulk, credentials::Sensitive, targets::TargetSpec, Fleet};
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("f.db")))
        .await
        .unwrap();
    let fleet = Fleet::new(
        store,
        fleet_core::credentials::CredentialStore::file(dir.path().join("c.json")),
    );
    let sim = SimFleet::start(SimConfig {
        devices: 12,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    sim.device(5).set_faults(Faults {
        reject_login: true,
        ..Faults::default()
    });
    let specs: Vec<TargetSpec> = fleet_core::targets::parse_text(
        &sim.ports()
            .iter()
            .map(|p| format!("127.0.0.1:{p}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let targets = fleet
        .enroll(
            &specs,
            "admin",
            Some(&Sensitive::new(String::new())),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    let opts = bulk::BulkOptions {
        concurrency: 4,
        waves: bulk::parse_waves("1,25%,100%").unwrap(),
        stop_after_failures: None,
        ..Default::default()
    };
    let report = bulk::push_all(
        fleet.shared_store(),
        targets.clone(),
        bulk::PlanSource::Plan(std::sync::Arc::new(bootstrap())),
        opts.clone(),
        bulk::Control::default(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        (report.succeeded, report.failed, report.skipped),
        (11, 1, 0),
        "{report:?}"
    );
    let waves: Vec<usize> = report.results.iter().map(|r| r.wave).collect();
    assert_eq!(
        waves.iter().filter(|w| **w == 1).count(),
        1,
        "a canary first"
    );
    assert_eq!(waves.iter().filter(|w| **w == 2).count(), 2);
    let refused = report
        .results
        .iter()
        .find(|r| r.status == "unreachable")
        .unwrap();
    assert!(
        refused.message.contains("refused the login"),
        "{}",
        refused.message
    );

    // A plan that fails on the canary stops every later wave.
    let bad =
        plan::compile("/ip address add address=10.1.1.1/24 interface=no-such-port\n").unwrap();
    let report = bulk::push_all(
        fleet.shared_store(),
        targets,
        bulk::PlanSource::Plan(std::sync::Arc::new(bad)),
        bulk::BulkOptions {
            stop_after_failures: Some(1),
            ..opts
        },
        bulk::Control::default(),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        (report.succeeded, report.failed, report.skipped),
        (0, 1, 11)
    );
    assert!(report.stopped.unwrap().contains("before wave 2"));
}

/// The preview's dry run makes the same decisions the push then executes,
/// and its diff against the router's export shows those changes; after the
/// push, a preview finds nothing to change.
#[tokio::test]
async fn the_preview_shows_what_the_push_then_does() {
    use fleet_core::preview;
    let e = env().await;
    let client = connect(&e.sim).await;
    let plan = bootstrap();
    let p = preview::preview(&client, "(rendered)", &plan)
        .await
        .unwrap();
    assert_eq!(p.steps.len(), plan.steps.len(), "every step is decided");
    assert!(
        !p.before.contains("# "),
        "the header is dropped: {}",
        p.before
    );
    assert!(
        p.before
            .contains("/system identity set name=sim-router-0000"),
        "{}",
        p.before
    );
    let added: Vec<&str> = p
        .diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    let removed: Vec<&str> = p
        .diff
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .collect();
    assert!(
        added.contains(&"+/interface bridge add name=bridge1 comment=\"new site\""),
        "{}",
        p.diff
    );
    assert!(
        added.contains(&"+/interface bridge port add bridge=bridge1 interface=ether2"),
        "{}",
        p.diff
    );
    assert!(
        added.contains(&"+/system identity set name=site-9-core"),
        "{}",
        p.diff
    );
    assert_eq!(
        removed,
        vec!["-/system identity set name=sim-router-0000"],
        "{}",
        p.diff
    );
    assert!(
        names(&client, "/interface/bridge").await.is_empty(),
        "a preview writes nothing"
    );

    let report = push::push(
        &e.store,
        &client,
        &e.device_id,
        None,
        &plan,
        &PushOptions::default(),
        |_| {},
    )
    .await;
    assert_eq!(report.status, PushStatus::Succeeded, "{}", report.message);
    for (would, did) in p.steps.iter().zip(&report.steps) {
        assert_eq!(would.line, did.line);
        let same = match (&would.outcome, &did.outcome) {
            (Outcome::WouldAdd, Outcome::Added { .. }) => true,
            (Outcome::WouldChange { properties: a }, Outcome::Changed { properties: b, .. }) => {
                a == b
            }
            (Outcome::Unchanged, Outcome::Unchanged) => true,
            _ => false,
        };
        assert!(
            same,
            "line {}: preview {:?}, push {:?}",
            would.line, would.outcome, did.outcome
        );
    }
    // The export after the push holds what the preview predicted.
    let predicted = preview::normalise_export(p.after.as_bytes()).unwrap();
    let now = preview::normalise_export(
        &client
            .export_text(routeros::ExportMethod::Auto)
            .await
            .unwrap(),
    )
    .unwrap();
    let now = canonical(&now);
    for line in added {
        let want = canonical(&line[1..]);
        assert!(now.contains(&want), "{line} missing after the push:\n{now}");
    }
    assert!(!predicted.is_empty());
    let again = preview::preview(&client, "(rendered)", &plan)
        .await
        .unwrap();
    assert_eq!(again.changes, 0, "{:?}", again.steps);
    assert!(again.diff.is_empty(), "{}", again.diff);
}

/// A dry run sees what earlier steps would add: a set on an item the same
/// script adds is planned, not refused.
#[tokio::test]
async fn a_dry_run_follows_items_added_earlier_in_the_plan() {
    let e = env().await;
    let client = connect(&e.sim).await;
    let plan = plan::compile(
        "/interface bridge add name=br-new\n/interface bridge set [ find name=br-new ] comment=later\n",
    )
    .unwrap();
    let steps = plan::apply(&client, &plan, true).await;
    assert_eq!(steps[0].outcome, Outcome::WouldAdd);
    assert_eq!(
        steps[1].outcome,
        Outcome::WouldChange {
            properties: vec!["comment".into()]
        }
    );
}

/// Script text with each command's properties in name order, for comparing
/// commands whatever order their properties were written in.
fn canonical(text: &str) -> String {
    let mut parsed = routeros_proto::script::parse(text.as_bytes()).unwrap();
    for c in &mut parsed.commands {
        if let routeros_proto::script::CommandKind::Menu(m) = &mut c.kind {
            m.args.sort_by_key(|a| match a {
                routeros_proto::script::Arg::Named { name, .. } => name.clone(),
                _ => String::new(),
            });
        }
    }
    parsed.to_text().unwrap()
}

/// A script with logic the plan does not model is refused as a plan with
/// its line; pushed as the explicit upload-and-/import step it runs on the
/// router (dry-run checked first on 7.16+), the uploaded file is removed,
/// and the report says it could not be verified by reading back. A failing
/// line stops the import and the backup is restored.
#[tokio::test]
async fn a_script_with_logic_is_pushed_by_import_when_chosen() {
    let e = env().await;
    let client = connect(&e.sim).await;
    let script = ":local site \"north\"\n/system identity set name=imported-1\n/interface bridge add name=br-imp\n";
    let refused = plan::compile(script).unwrap_err();
    assert_eq!(refused.line, 1);
    assert!(refused.message.contains("upload-and-/import"), "{refused}");

    let plan = plan::import_plan(script);
    let dry = plan::apply(&client, &plan, true).await;
    assert!(
        matches!(&dry[0].outcome, Outcome::WouldImport { checked: true, output } if output.contains("dry run")),
        "{dry:?}"
    );
    assert_eq!(
        names(&client, "/system/identity").await,
        vec!["sim-router-0000"]
    );

    let report = push::push(
        &e.store,
        &client,
        &e.device_id,
        None,
        &plan,
        &PushOptions::default(),
        |_| {},
    )
    .await;
    assert_eq!(report.status, PushStatus::Succeeded, "{}", report.message);
    assert!(matches!(&report.steps[0].outcome, Outcome::Imported { .. }));
    assert!(
        report.message.contains("cannot be read back"),
        "{}",
        report.message
    );
    assert_eq!(names(&client, "/system/identity").await, vec!["imported-1"]);
    assert!(names(&client, "/interface/bridge")
        .await
        .contains(&"br-imp".to_owned()));
    assert!(
        !names(&client, "/file")
            .await
            .iter()
            .any(|f| f.starts_with("fleetdeck-import")),
        "the uploaded script is removed"
    );

    let bad = plan::import_plan(
        "/system identity set name=half-done\n/interface bridge set no-such-bridge comment=x\n",
    );
    let report = push::push(
        &e.store,
        &client,
        &e.device_id,
        None,
        &bad,
        &PushOptions::default(),
        |_| {},
    )
    .await;
    assert_eq!(report.status, PushStatus::RolledBack, "{}", report.message);
    assert!(report.message.contains("line 2"), "{}", report.message);
}

/// A step that reboots the router: the next step finds the connection
/// gone; the push reconnects and reports what it knows (the router
/// restarted, which steps are in place, the safety net still armed). The
/// next push is refused until that net is confirmed.
#[tokio::test]
async fn a_reboot_mid_push_is_reported_with_what_is_known() {
    let e = env().await;
    // Slow enough answers that the step after the reboot is in flight
    // when the router goes down, as on real hardware.
    e.sim.device(0).set_faults(Faults {
        latency: Duration::from_millis(40),
        ..Faults::default()
    });
    let client = connect(&e.sim).await;
    let plan = plan::compile(
        "/system identity set name=before-reboot\n/system reboot\n/interface bridge add name=after-reboot\n",
    )
    .unwrap();
    let mut reach = ConnectOptions::new("127.0.0.1", e.sim.port(0), "admin", "");
    reach.command_timeout = Duration::from_millis(700);
    let opts = PushOptions {
        reconnect: Some(reach),
        reconnect_within: Duration::from_secs(10),
        ..PushOptions::default()
    };
    let report = push::push(&e.store, &client, &e.device_id, None, &plan, &opts, |_| {}).await;
    assert_eq!(report.status, PushStatus::Unknown, "{}", report.message);
    assert!(report.message.starts_with("line 3:"), "{}", report.message);
    for fact in [
        "Reconnected after",
        "the router restarted",
        "1 of 2 checkable steps are in place",
        "is still armed",
    ] {
        assert!(
            report.message.contains(fact),
            "{fact:?} in {}",
            report.message
        );
    }
    assert!(actions(&e.store, &e.device_id)
        .await
        .contains(&"push.connection-lost".to_owned()));

    e.sim.device(0).set_faults(Faults::default());
    let mut o = ConnectOptions::new("127.0.0.1", e.sim.port(0), "admin", "");
    o.command_timeout = Duration::from_millis(700);
    let again = Client::connect(&o).await.unwrap();
    let refused = push::push(
        &e.store,
        &again,
        &e.device_id,
        None,
        &bootstrap(),
        &PushOptions::default(),
        |_| {},
    )
    .await;
    assert_eq!(refused.status, PushStatus::Failed);
    assert!(
        refused.message.contains("an earlier push is not confirmed"),
        "{}",
        refused.message
    );
    let pending = push::pending_safety_nets(&again).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert!(push::confirm_safety_net(&again, &pending[0]).await.unwrap());
    let ok = push::push(
        &e.store,
        &again,
        &e.device_id,
        None,
        &bootstrap(),
        &PushOptions::default(),
        |_| {},
    )
    .await;
    assert_eq!(ok.status, PushStatus::Succeeded, "{}", ok.message);
}

/// A value typed `secret` is never shown: not in the rendered text, the
/// plan, the export before or after, or the diff; neither before the push
/// nor once the router holds it.
#[tokio::test]
async fn a_secret_value_never_shows_in_a_preview() {
    let e = env().await;
    let client = connect(&e.sim).await;
    let secret = "Tr0ub4dor&\"3$x";
    let template = Template::parse(
        "/interface bridge add name=vault comment={{ key: secret }}\n/system identity set name=vaulted\n",
    )
    .unwrap();
    let values = BTreeMap::from([("key".to_string(), secret.to_string())]);
    let shown = |p: &fleet_core::preview::TemplatePreview| {
        let json = serde_json::to_string(p).unwrap();
        assert!(!json.contains("Tr0ub4dor"), "a secret shown: {json}");
        p.preview.clone().unwrap()
    };
    let first = fleet_core::preview::template_on_router(
        &e.store,
        &client,
        Some(&e.device_id),
        &template,
        &values,
        false,
    )
    .await
    .unwrap();
    let p = shown(&first);
    assert_eq!(p.plan.steps.len(), 2, "the same steps as the real plan");
    assert!(p.diff.contains("********"), "{}", p.diff);

    // Pushed for real: the router now holds the secret, and shows it in
    // its export; the next preview still does not.
    let rendered = template.render(&values).unwrap();
    let report = push::push(
        &e.store,
        &client,
        &e.device_id,
        None,
        &plan::compile(&rendered.text).unwrap(),
        &PushOptions::default(),
        |_| {},
    )
    .await;
    assert_eq!(report.status, PushStatus::Succeeded, "{}", report.message);
    let bridge = e.sim.device(0).items("interface/bridge");
    assert!(bridge
        .iter()
        .any(|b| b.get("comment") == Some(secret.as_bytes())));
    let again = fleet_core::preview::template_on_router(
        &e.store,
        &client,
        Some(&e.device_id),
        &template,
        &values,
        false,
    )
    .await
    .unwrap();
    let p = shown(&again);
    assert_eq!(p.changes, 0);
    assert!(p.before.contains("comment=\"********\""), "{}", p.before);
}

/// An audit trail that cannot be written stops the push: from the start it
/// never touches the router; when the safety net's event cannot be kept,
/// the net is never armed and nothing was changed.
#[tokio::test]
async fn a_push_whose_audit_trail_cannot_be_written_does_not_go_on() {
    for (when, stage) in [
        ("", "did not start"),
        ("WHEN NEW.action = 'push.safety-net'", "safety net"),
    ] {
        let e = env().await;
        let db = rusqlite::Connection::open(e._dir.path().join("f.db")).unwrap();
        db.execute_batch(&format!(
            "CREATE TRIGGER audit_full BEFORE INSERT ON audit_events {when}
             BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;"
        ))
        .unwrap();
        let client = connect(&e.sim).await;
        let identity_before = names(&client, "/system/identity").await;
        let report = push::push(
            &e.store,
            &client,
            &e.device_id,
            None,
            &bootstrap(),
            &PushOptions::default(),
            |_| {},
        )
        .await;
        assert_eq!(report.status, PushStatus::Failed, "{}", report.message);
        assert!(
            report.message.contains("audit trail could not be written")
                && report.message.contains(stage)
                && report.message.contains("nothing was changed"),
            "{}",
            report.message
        );
        assert!(report.steps.is_empty(), "no step ran");
        assert!(
            names(&client, "/system/scheduler").await.is_empty(),
            "no safety net left armed, no scheduler added"
        );
        assert_eq!(names(&client, "/system/identity").await, identity_before);
    }
}

/// A secret that reached the router (here a script holding a PPP password
/// typed as a `secret` value) never lands in this laptop's files: the next
/// push's backup export is kept in the audit trail with it masked, and no
/// byte of it is in the database or its WAL.
#[tokio::test]
async fn no_secret_reaches_the_store_through_the_audit_trail() {
    let e = env().await;
    let client = connect(&e.sim).await;
    let template = Template::parse(
        "/system script add name=vpn source=\"/ppp secret add name=bob password={{ pw: secret }}\"\n",
    )
    .unwrap();
    let rendered = template
        .render(&BTreeMap::from([(
            "pw".to_string(),
            "Hunter2Secret".to_string(),
        )]))
        .unwrap();
    let first = push::push(
        &e.store,
        &client,
        &e.device_id,
        None,
        &plan::compile(&rendered.text).unwrap(),
        &PushOptions::default(),
        |_| {},
    )
    .await;
    assert_eq!(first.status, PushStatus::Succeeded, "{}", first.message);
    // The router holds it now: the next push's backup export shows it.
    let second = push::push(
        &e.store,
        &client,
        &e.device_id,
        None,
        &plan::compile("/system identity set name=after-secret\n").unwrap(),
        &PushOptions::default(),
        |_| {},
    )
    .await;
    assert_eq!(second.status, PushStatus::Succeeded, "{}", second.message);
    let backups: Vec<String> = e
        .store
        .audit_events(Some(&e.device_id), 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|ev| ev.action == "push.backup")
        .map(|ev| ev.detail)
        .collect();
    assert_eq!(backups.len(), 2);
    // The second push's backup is the configuration the first made, kept
    // as a version with the secret masked.
    let history = e
        .store
        .config_versions(Some(&e.device_id), 10)
        .await
        .unwrap();
    let mut texts = Vec::new();
    for v in &history {
        texts.push(e.store.config_text(&v.hash).await.unwrap().unwrap());
    }
    assert!(
        texts.iter().any(|t| t.contains("add name=vpn source=")
            && t.contains("password=")
            && t.contains("***")),
        "the export is kept, masked: {texts:?}"
    );
    for file in ["f.db", "f.db-wal"] {
        let path = e._dir.path().join(file);
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !bytes.windows(13).any(|w| w == b"Hunter2Secret"),
            "the secret is in {file}"
        );
    }
}

/// The push's backup is encrypted with a random password kept in the
/// credential store only while the backup exists; the safety net removes
/// itself before it loads the backup (it fires once); confirming removes
/// the net, the backup file and the password; a backup left by an earlier
/// push (restored, so still on the flash) is removed by the next push.
#[tokio::test]
async fn the_backup_is_encrypted_the_net_fires_once_and_both_go_after_confirm() {
    use routeros_proto::script::{self, Arg, CommandKind, StrPart, Value};
    let e = env().await;
    let client = connect(&e.sim).await;
    let keys = std::sync::Arc::new(fleet_core::credentials::CredentialStore::file(
        e._dir.path().join("credentials.json"),
    ));
    // A backup an earlier push left behind.
    client
        .run(&Command::new("/system/backup/save").attr("name", "fleetdeck-00aa11bb22cc33dd"))
        .await
        .unwrap();
    let files = |c: &Client| {
        let c = c.clone();
        async move {
            c.run(&Command::new("/file/print").proplist(["name"]))
                .await
                .unwrap()
                .rows
                .iter()
                .filter_map(|r| r.get("name").map(|n| n.into_owned()))
                .collect::<Vec<_>>()
        }
    };
    let opts = PushOptions {
        auto_confirm: false,
        backup_keys: Some(keys.clone()),
        ..PushOptions::default()
    };
    let report = push::push(
        &e.store,
        &client,
        &e.device_id,
        None,
        &bootstrap(),
        &opts,
        |_| {},
    )
    .await;
    assert_eq!(
        report.status,
        PushStatus::AwaitingConfirmation,
        "{}",
        report.message
    );
    let file = report.backup.clone().unwrap();
    let net = report.safety_net.clone().unwrap();
    let token = net.strip_prefix(push::SAFETY_PREFIX).unwrap();
    assert_eq!(token.len(), 16, "a random token: {net}");
    assert_eq!(file, format!("fleetdeck-{token}.backup"));
    assert_eq!(
        files(&client)
            .await
            .iter()
            .filter(|f| f.starts_with("fleetdeck-"))
            .collect::<Vec<_>>(),
        vec![&file],
        "the old backup is gone, this push's is there"
    );

    // Encrypted: loading it without its password is refused.
    let refused = client
        .run(
            &Command::new("/system/backup/load")
                .attr("name", &file)
                .attr("password", ""),
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("wrong password"), "{refused}");
    let password = keys
        .push_backup(token)
        .unwrap()
        .expect("the password is kept");
    assert_eq!(password.expose().len(), 32);

    // The safety net: once, then the load with that password.
    let sched = client
        .run(&Command::new("/system/scheduler/print").word(format!("?name={net}")))
        .await
        .unwrap();
    let on_event = sched.rows[0].get("on-event").unwrap().into_owned();
    let parsed = script::parse(on_event.as_bytes()).unwrap();
    let menu = |i: usize| match &parsed.commands[i].kind {
        CommandKind::Menu(m) => m.clone(),
        other => panic!("{other:?}"),
    };
    let first = menu(0);
    assert_eq!(
        first.api_path(),
        "/system/scheduler/remove",
        "it removes itself first: {on_event}"
    );
    let second = menu(1);
    assert_eq!(second.api_path(), "/system/backup/load");
    let arg = |name: &str| {
        second
            .args
            .iter()
            .find_map(|a| match a {
                Arg::Named { name: n, value } if n == name => Some(value.clone()),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(
        arg("password"),
        Value::Str(vec![StrPart::Lit(password.expose().as_bytes().to_vec())])
    );
    assert_eq!(arg("name").literal().unwrap(), file.as_bytes());

    // Confirmed: net, file and password are gone.
    assert_eq!(
        push::confirm(
            &e.store,
            &client,
            Some(&e.device_id),
            &net,
            "tech",
            Some(&keys)
        )
        .await
        .unwrap(),
        push::Confirmation::Confirmed
    );
    assert!(push::pending_safety_nets(&client).await.unwrap().is_empty());
    assert!(
        !files(&client).await.contains(&file),
        "the backup file is removed"
    );
    assert!(
        keys.push_backup(token).unwrap().is_none(),
        "the password is deleted"
    );
}

/// A router that answers every command, but slowly, cannot hold a push
/// forever: the push stops at its overall deadline, says so, and its
/// record and audit trail are finished, not left running.
#[tokio::test]
async fn a_push_stops_at_its_deadline_and_says_what_is_known() {
    let e = env().await;
    e.sim.device(0).set_faults(Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    let client = connect(&e.sim).await;
    let opts = PushOptions {
        deadline: Duration::from_secs(1),
        ..PushOptions::default()
    };
    let report = push::push(
        &e.store,
        &client,
        &e.device_id,
        None,
        &bootstrap(),
        &opts,
        |_| {},
    )
    .await;
    assert!(
        matches!(report.status, PushStatus::Unknown | PushStatus::Failed),
        "{:?}: {}",
        report.status,
        report.message
    );
    assert!(
        report.message.contains("did not finish within 1 s"),
        "{}",
        report.message
    );
    let record = &e.store.push_records(Some(&e.device_id), 1).await.unwrap()[0];
    assert_ne!(record.status, "running", "the record is finished");
    assert!(record.summary.contains("did not finish within 1 s"));
    let acts = actions(&e.store, &e.device_id).await;
    let last = acts.last().unwrap();
    assert!(last == "push.unknown" || last == "push.failed", "{acts:?}");
}

/// Pre-flight fails closed: when the router's schedulers cannot be read,
/// the push cannot know whether an earlier push's safety net is pending,
/// so it stops before changing anything (it used to read that as "none").
#[tokio::test]
async fn a_pre_flight_check_that_cannot_be_made_stops_the_push() {
    let e = env().await;
    e.sim.device(0).set_faults(Faults {
        trap: vec![(
            "/system/scheduler/print".into(),
            "not enough permissions (9)".into(),
        )],
        ..Faults::default()
    });
    let client = connect(&e.sim).await;
    let report = push::push(
        &e.store,
        &client,
        &e.device_id,
        None,
        &bootstrap(),
        &PushOptions::default(),
        |_| {},
    )
    .await;
    assert_eq!(report.status, PushStatus::Failed, "{}", report.message);
    assert!(
        report.message.contains("schedulers could not be read")
            && report.message.contains("nothing was changed"),
        "{}",
        report.message
    );
    assert!(report.backup.is_none(), "no backup was taken");
    e.sim.device(0).set_faults(Faults::default());
    assert_eq!(
        names(&client, "/system/identity").await,
        vec!["sim-router-0000"],
        "the router is as it was"
    );
}
