//! One definition of router state: the list's state per router and the
//! overview's counts come from the same rule, on both store backends.

use std::time::Duration;

use fleet_core::{
    credentials::CredentialStore, dashboard::FleetOverview, fleet_store::RouterState, Checkin,
    Fleet, FleetStore, StoreUrl,
};
use fleet_store::NewDevice;

#[path = "../../fleet-store/tests/common/mod.rs"]
mod common;

const INTERVAL: Duration = Duration::from_secs(60);
const NOW: i64 = 1_800_000_000_000;

/// Routers whose last check-ins are these ages (in poll intervals; `None`
/// never checked in), then the list and the overview read at `NOW`.
async fn list_and_overview(store: FleetStore, dir: &std::path::Path) {
    let ages: [Option<f64>; 7] = [
        Some(0.2),
        Some(1.4),
        Some(1.6),
        Some(3.4),
        Some(3.6),
        Some(40.0),
        None,
    ];
    for (i, age) in ages.iter().enumerate() {
        let d = store
            .add_device(&NewDevice {
                host: format!("10.0.0.{}", i + 1),
                port: 8728,
                username: "admin".into(),
                transport: Default::default(),
                site_id: None,
                tags: vec![],
            })
            .await
            .unwrap();
        if let Some(age) = age {
            let at = NOW - (age * INTERVAL.as_millis() as f64) as i64;
            store
                .record_checkin(&Checkin {
                    device_id: d.id.clone(),
                    checked_in_at: at,
                    version: "7.16.2".into(),
                    identity: format!("r{i}"),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
    }
    let fleet = Fleet::new(store, CredentialStore::file(dir.join("c.json")));
    let mut routers = fleet.list_routers(INTERVAL, NOW).await.unwrap();
    routers.sort_by(|a, b| a.device.host.cmp(&b.device.host));
    let states: Vec<RouterState> = routers.iter().map(|r| r.state).collect();
    use RouterState::*;
    assert_eq!(
        states,
        vec![Online, Online, Degraded, Degraded, Offline, Offline, NeverSeen]
    );
    let overview = FleetOverview::load(fleet.store(), NOW, INTERVAL, Duration::from_secs(3600))
        .await
        .unwrap();
    let count = |s: RouterState| states.iter().filter(|x| **x == s).count() as u64;
    let summary = overview.summary;
    assert_eq!(summary.total, 7);
    assert_eq!(summary.online, count(Online));
    assert_eq!(summary.degraded, count(Degraded));
    assert_eq!(summary.offline, count(Offline) + count(NeverSeen));
    assert_eq!(summary.never_seen, count(NeverSeen));
    // The list serialises the state for the UI, which shows it as is.
    let json = serde_json::to_value(&routers[2]).unwrap();
    assert_eq!(json["state"], "degraded");
    assert_eq!(json["host"], "10.0.0.3");
}

#[tokio::test]
async fn list_and_overview_agree_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("f.db")))
        .await
        .unwrap();
    list_and_overview(store, dir.path()).await;
}

#[tokio::test]
async fn list_and_overview_agree_on_mariadb() {
    let dir = tempfile::tempdir().unwrap();
    let (store, db) = common::mysql_store().await;
    list_and_overview(store, dir.path()).await;
    common::drop_mysql_db(&db).await;
}
