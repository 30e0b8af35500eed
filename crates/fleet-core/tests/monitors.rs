//! Live traffic monitors held by the fleet: samples until stopped (then a
//! `stopped` event with no error), ended when nobody listens, and the
//! router told to cancel either way.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use fleet_core::{
    credentials::{CredentialStore, Sensitive},
    monitors::MonitorEvent,
    AddDevice, Fleet, FleetStore, StoreUrl,
};
use routeros_sim::{wait, SimConfig, SimFleet};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monitor_streams_until_stopped_or_unheard() {
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("f.db")))
        .await
        .unwrap();
    let fleet = Fleet::new(store, CredentialStore::file(dir.path().join("c.json")));
    let sim = SimFleet::start(SimConfig {
        devices: 1,
        password: "pw".into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let id = fleet
        .add_device(AddDevice {
            host: "127.0.0.1".into(),
            port: sim.port(0),
            username: "admin".into(),
            password: Sensitive::new("pw".into()),
            transport: Default::default(),
        })
        .await
        .unwrap()
        .id;
    let interfaces = fleet.interfaces(&id).await.unwrap();
    let ether = interfaces
        .first()
        .expect("the router has interfaces")
        .name
        .clone();

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let monitor = fleet
        .start_monitor(&id, &ether, move |e| tx.send(e).is_ok())
        .await
        .unwrap();
    let first = tokio::time::timeout(wait::DEADLINE, rx.recv())
        .await
        .unwrap();
    assert!(
        matches!(first, Some(MonitorEvent::Sample { .. })),
        "{first:?}"
    );
    assert_eq!(fleet.monitors_running(), 1);
    fleet.stop_monitor(monitor);
    let stopped = loop {
        match tokio::time::timeout(wait::DEADLINE, rx.recv())
            .await
            .unwrap()
        {
            Some(MonitorEvent::Stopped { error }) => break error,
            Some(MonitorEvent::Sample { .. }) => continue,
            None => panic!("the monitor ends with a stopped event"),
        }
    };
    assert_eq!(stopped, None, "stopped by the user: no error");
    assert_eq!(fleet.monitors_running(), 0);

    // A receiver that goes away (the window closed) ends its monitor.
    let heard = Arc::new(AtomicBool::new(false));
    let flag = heard.clone();
    fleet
        .start_monitor(&id, &ether, move |_| {
            flag.store(true, Ordering::SeqCst);
            false
        })
        .await
        .unwrap();
    wait::until(
        "the monitor ends once nobody listens",
        wait::DEADLINE,
        || {
            let done = heard.load(Ordering::SeqCst) && fleet.monitors_running() == 0;
            async move { done }
        },
    )
    .await;
    // Stopping a monitor that already ended is harmless.
    fleet.stop_monitor(monitor);
}
