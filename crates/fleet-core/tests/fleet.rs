//! Fleet operations end to end: simulated routers over TCP, a real SQLite
//! file, the file credential store.

use std::time::Duration;

use fleet_core::chart::Theme;
use fleet_core::{
    credentials::{CredentialStore, Sensitive},
    AddDevice, ErrorKind, Fleet, StoreUrl,
};
use fleet_store::FleetStore;
use routeros::TlsMode;
use routeros_sim::{SimConfig, SimFleet};

struct Env {
    fleet: Fleet,
    sim: SimFleet,
    _dir: tempfile::TempDir,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("fleet.db")))
        .await
        .unwrap();
    let creds = CredentialStore::file(dir.path().join("credentials.json"));
    let mut fleet = Fleet::new(store, creds);
    fleet.poll_timeout = Duration::from_secs(3);
    let sim = SimFleet::start(SimConfig {
        devices: 2,
        password: "fieldpass".into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    Env {
        fleet,
        sim,
        _dir: dir,
    }
}

fn add(port: u16, password: &str) -> AddDevice {
    AddDevice {
        host: "127.0.0.1".into(),
        port,
        username: "admin".into(),
        password: Sensitive::new(password.into()),
        transport: Default::default(),
    }
}

#[tokio::test]
async fn add_poll_and_chart_a_router() {
    let e = env().await;
    let dev = e
        .fleet
        .add_device(add(e.sim.port(1), "fieldpass"))
        .await
        .unwrap();
    assert_eq!(
        e.fleet
            .credentials()
            .router(&dev.id)
            .unwrap()
            .unwrap()
            .password
            .expose(),
        "fieldpass"
    );
    let hour_ago = fleet_core::poll::now_ms() - 3_600_000;
    let empty = e
        .fleet
        .device_charts(&dev.id, hour_ago, hour_ago + 3_600_000, 240, Theme::Light)
        .await
        .unwrap();
    assert_eq!(empty.points, 0);

    let k = e.fleet.poll_device(&dev.id).await.unwrap();
    assert_eq!(k.identity, "sim-router-0001");
    assert_eq!(k.version, "7.16.2 (stable)");
    assert!(k.cpu_load <= 100);
    assert!(k.total_memory > k.free_memory && k.free_memory > 0);
    assert!(k.uptime_secs >= 3600);
    assert!(k.rx_bytes > 0 && k.tx_bytes > 0);
    assert!(k.serial.as_deref().unwrap().starts_with("HG"));

    tokio::time::sleep(Duration::from_millis(20)).await;
    e.fleet.poll_device(&dev.id).await.unwrap();
    let listed = e.fleet.list_devices().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].identity.as_deref(), Some("sim-router-0001"));
    assert!(listed[0].last_checkin_at.is_some());
    assert_eq!(e.fleet.store().count_checkins(&dev.id).await.unwrap(), 2);

    // The last 5 s in 1-ms points: the two polls 20 ms apart are two points.
    let now = fleet_core::poll::now_ms();
    let chart = e
        .fleet
        .device_charts(&dev.id, now - 5_000, now + 1, 5_001, Theme::Light)
        .await
        .unwrap();
    assert_eq!(chart.points, 2);
    assert!(chart.cpu_svg.contains("sim-router-0001"));
    assert_eq!(chart.cpu_svg.matches("<circle").count(), 2);
}

#[tokio::test]
async fn wrong_password_is_reported_and_remembered() {
    let e = env().await;
    let dev = e
        .fleet
        .add_device(add(e.sim.port(0), "not-it"))
        .await
        .unwrap();
    let err = e.fleet.poll_device(&dev.id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(
        err.to_string().contains("invalid user name or password"),
        "{err}"
    );
    let d = e.fleet.store().get_device(&dev.id).await.unwrap();
    assert!(d.last_error.unwrap().contains("refused the login"));
    assert_eq!(e.fleet.store().count_checkins(&dev.id).await.unwrap(), 0);
}

#[tokio::test]
async fn unreachable_router_is_reported_and_remembered() {
    let e = env().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dev = e.fleet.add_device(add(port, "x")).await.unwrap();
    let err = e.fleet.poll_device(&dev.id).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable);
    let d = e.fleet.store().get_device(&dev.id).await.unwrap();
    assert!(d.last_error.unwrap().contains("could not reach the router"));
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_stored() {
    let e = env().await;
    for host in ["", "  ", "10.0.0.1; /system reset", "http://10.0.0.1/"] {
        let mut a = add(8728, "x");
        a.host = host.into();
        let err = e.fleet.add_device(a).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{host:?}");
    }
    let mut a = add(0, "x");
    assert_eq!(
        e.fleet.add_device(a.clone()).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    a.port = 8728;
    a.username = " ".into();
    assert_eq!(
        e.fleet.add_device(a).await.unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert!(e.fleet.list_devices().await.unwrap().is_empty());

    e.fleet.add_device(add(8728, "x")).await.unwrap();
    let dup = e.fleet.add_device(add(8728, "y")).await.unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::InvalidInput);
    assert!(dup.to_string().contains("already in the inventory"));
}

#[tokio::test]
async fn poll_by_address_adds_the_router_once() {
    let e = env().await;
    let pw = Sensitive::new("fieldpass".to_string());
    let port = e.sim.port(0);
    e.fleet
        .poll_address("127.0.0.1", port, "admin", &pw, TlsMode::Plain)
        .await
        .unwrap();
    e.fleet
        .poll_address("127.0.0.1", port, "admin", &pw, TlsMode::Plain)
        .await
        .unwrap();
    let devices = e.fleet.list_devices().await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(
        e.fleet
            .store()
            .count_checkins(&devices[0].id)
            .await
            .unwrap(),
        2
    );
}
