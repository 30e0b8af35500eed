//! Push jobs (`Fleet::push_to`): typed events carrying the job id, control
//! by that id only, one push at a time, a value error caught before any
//! router is touched.

use std::{sync::Arc, time::Duration};

use fleet_core::{
    credentials::{CredentialStore, Sensitive},
    provision::{PushAction, PushEvent, PushSpec},
    Fleet,
};
use fleet_store::{FleetStore, StoreUrl};
use routeros_sim::{SimConfig, SimFleet};

fn spec(template: &str) -> PushSpec {
    PushSpec {
        template: template.into(),
        values: [("comment".to_string(), "from-a-job".to_string())].into(),
        import: false,
        waves: "1,100%".into(),
        concurrency: 1,
        stop_after: 0,
        confirm_within_minutes: 5,
        manual_confirm: false,
        dry_run: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_job_is_controlled_by_its_id_and_runs_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("f.db")))
        .await
        .unwrap();
    let fleet = Arc::new(Fleet::new(
        store,
        CredentialStore::file(dir.path().join("c.json")),
    ));
    let sim = SimFleet::start(SimConfig {
        devices: 2,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let text: String = sim
        .ports()
        .iter()
        .map(|p| format!("127.0.0.1:{p}\n"))
        .collect();
    let targets = fleet
        .enroll(
            &fleet_core::targets::parse_text(&text).unwrap(),
            "admin",
            Some(&Sensitive::new(String::new())),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    let template = "/interface bridge add name=lan comment={{ comment: string }}\n";

    // A value error stops the push before it starts: no job, no router.
    let err = fleet
        .push_to(
            targets.clone(),
            &spec("/x y={{ n: int(1..5) }}\n"),
            None,
            |_| {},
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("value error"), "{err}");
    assert!(fleet.running_push().is_none());

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let pushing = {
        let fleet = fleet.clone();
        let targets = targets.clone();
        tokio::spawn(async move {
            fleet
                .push_to(targets, &spec(template), None, move |e| {
                    let _ = tx.send(e);
                })
                .await
        })
    };
    let PushEvent::Started { job, routers } = rx.recv().await.unwrap() else {
        panic!("the first event names the job");
    };
    assert_eq!(routers, 2);
    assert!(fleet.control_push(&job, PushAction::Pause));
    assert_eq!(fleet.running_push(), Some((job.clone(), true)));
    assert!(
        !fleet.control_push("some-other-job", PushAction::Cancel),
        "only the job named is controlled"
    );
    let second = fleet
        .push_to(targets.clone(), &spec(template), None, |_| {})
        .await
        .unwrap_err();
    assert!(second.to_string().contains("already running"), "{second}");
    assert!(fleet.control_push(&job, PushAction::Resume));

    let mut routers_done = 0;
    let report = loop {
        match rx.recv().await.expect("the job reports to the end") {
            PushEvent::Router { result } => {
                assert_eq!(result.status, "succeeded", "{result:?}");
                routers_done += 1;
            }
            PushEvent::Finished { report } => break report,
            _ => {}
        }
    };
    assert_eq!(routers_done, 2);
    assert_eq!(report.succeeded, 2);
    pushing.await.unwrap().unwrap();
    assert!(fleet.running_push().is_none(), "the slot is free again");
    assert!(
        !fleet.control_push(&job, PushAction::Pause),
        "a finished job"
    );
    for i in 0..2 {
        assert!(sim
            .device(i)
            .items("interface/bridge")
            .iter()
            .any(|b| b.get_str("comment").as_deref() == Some("from-a-job")));
    }
}

/// A bulk push cut short (its future dropped, as when the app is closed or
/// killed mid-push) is found again without its caller: the batch kept the
/// push it ran, without its secret value (that is in the keyring, under
/// the batch). Resumed from that alone, every router ends on the pushed
/// configuration, secret included, and the secret is forgotten once the
/// batch is finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_push_is_offered_and_resumed_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("f.db")))
        .await
        .unwrap();
    let creds = dir.path().join("c.json");
    let fleet = Arc::new(Fleet::new(store, CredentialStore::file(creds.clone())));
    let sim = SimFleet::start(SimConfig {
        devices: 4,
        password: "pw".into(),
        faults: routeros_sim::Faults {
            latency: Duration::from_millis(5),
            ..Default::default()
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let text: String = sim
        .ports()
        .iter()
        .map(|p| format!("127.0.0.1:{p}\n"))
        .collect();
    let password = Sensitive::new("pw".to_string());
    let targets = fleet
        .enroll(
            &fleet_core::targets::parse_text(&text).unwrap(),
            "admin",
            Some(&password),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    for t in &targets {
        fleet
            .credentials()
            .set_router(&t.device_id, &(&t.connect).into(), &password)
            .unwrap();
    }
    let mut interrupted = spec(
        "/system identity set name={{ name: string }}\n/interface bridge add name=lan comment={{ note: secret }}\n",
    );
    interrupted.values = [
        ("name".to_string(), "edge".to_string()),
        ("note".to_string(), "Kept-In-The-Keyring-7".to_string()),
    ]
    .into();
    interrupted.waves = "100%".into();

    // Cut short once the first router is done: the future is dropped.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let push = fleet.push_to(targets.clone(), &interrupted, None, move |e| {
        if matches!(e, PushEvent::Router { .. }) {
            let _ = tx.send(());
        }
    });
    tokio::select! {
        r = push => panic!("the push ended before it was cut: {r:?}"),
        _ = rx.recv() => {}
    }
    let offered = fleet.interrupted_pushes().await.unwrap();
    assert_eq!(offered.len(), 1, "{offered:?}");
    let batch = &offered[0];
    assert_eq!(batch.routers, 4);
    assert!(batch.succeeded >= 1 && batch.succeeded < 4, "{batch:?}");
    assert!(batch.template_start.starts_with("/system identity set"));
    let kept = fleet.store().push_batches(None, 5).await.unwrap();
    assert!(
        kept.iter()
            .all(|b| !b.options.contains("Kept-In-The-Keyring-7")),
        "the secret is not in the store"
    );

    let report = fleet.resume_push(&batch.batch_id, |_| {}).await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    assert_eq!(report.succeeded + report.already_done, 4, "{report:?}");
    for port in sim.ports() {
        let c = routeros::Client::connect(&routeros::ConnectOptions::new(
            "127.0.0.1",
            port,
            "admin",
            "pw",
        ))
        .await
        .unwrap();
        let name = c
            .run(&routeros::Command::new("/system/identity/print"))
            .await
            .unwrap()
            .rows[0]
            .get("name")
            .unwrap()
            .into_owned();
        assert_eq!(name, "edge");
        let bridges = c
            .run(&routeros::Command::new("/interface/bridge/print"))
            .await
            .unwrap();
        let comments: Vec<String> = bridges
            .rows
            .iter()
            .filter_map(|r| r.get("comment").map(|c| c.into_owned()))
            .collect();
        assert_eq!(
            comments,
            vec!["Kept-In-The-Keyring-7".to_string()],
            "{port}"
        );
    }
    assert!(fleet.interrupted_pushes().await.unwrap().is_empty());
    let file = std::fs::read_to_string(&creds).unwrap();
    assert!(
        !file.contains("push-batch:") && !file.contains("Kept-In-The-Keyring-7"),
        "forgotten once finished: {file}"
    );
}
