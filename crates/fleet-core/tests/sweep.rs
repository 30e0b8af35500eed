//! "Poll checked" (`Fleet::poll_devices`): every router polled as "Poll
//! now" polls it, progress for each as it answers, a failure kept on its
//! router without stopping the others.

use fleet_core::{credentials::CredentialStore, AddDevice, Fleet, FleetStore, StoreUrl};
use routeros_sim::{SimConfig, SimFleet};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checked_routers_are_polled_with_progress_for_each() {
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("f.db")))
        .await
        .unwrap();
    let fleet = Fleet::new(store, CredentialStore::file(dir.path().join("c.json")));
    let sim = SimFleet::start(SimConfig {
        devices: 11,
        password: "pw".into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut ids = Vec::new();
    for i in 0..11 {
        // Router 4 was entered with the wrong password.
        let password = if i == 4 { "wrong" } else { "pw" };
        let d = fleet
            .add_device(AddDevice {
                host: "127.0.0.1".into(),
                port: sim.port(i),
                username: "admin".into(),
                password: fleet_core::credentials::Sensitive::new(password.into()),
                transport: Default::default(),
            })
            .await
            .unwrap();
        ids.push(d.id);
    }
    let seen = std::sync::Mutex::new(Vec::new());
    let sweep = fleet
        .poll_devices(&ids, |p| seen.lock().unwrap().push(p))
        .await;
    assert_eq!((sweep.total, sweep.failed), (11, 1));
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len(), 11, "progress for every router");
    assert_eq!(
        seen.iter().map(|p| p.done).collect::<Vec<_>>(),
        (1..=11).collect::<Vec<_>>()
    );
    assert!(seen.iter().all(|p| p.total == 11));
    let failed: Vec<_> = seen.iter().filter(|p| p.error.is_some()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].device_id, ids[4]);
    assert!(failed[0].checkin.is_none());
    assert_eq!(seen.last().unwrap().failed, 1);
    for (i, id) in ids.iter().enumerate() {
        let stored = fleet.store().count_checkins(id).await.unwrap();
        assert_eq!(stored, u64::from(i != 4), "router {i}");
    }
    let device = fleet.store().get_device(&ids[4]).await.unwrap();
    assert!(
        device.last_error.is_some(),
        "the failure is kept on the router"
    );
}
