//! The same behaviour, checked on both backends: the embedded SQLite file and
//! the real MariaDB server on 127.0.0.1:3306 (`FLEETDECK_TEST_MYSQL_URL`
//! overrides it). A missing MariaDB is a failure, not a skip.

use fleet_store::{Checkin, FleetStore, NewDevice, StoreError, StoreUrl};
use mysql_async::prelude::*;

fn mysql_base_url() -> String {
    std::env::var("FLEETDECK_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// A fresh database per test, so tests run in parallel without sharing rows.
async fn mysql_store() -> (FleetStore, String) {
    let base = mysql_base_url();
    let pool = mysql_async::Pool::new(base.as_str());
    let mut conn = pool.get_conn().await.unwrap_or_else(|e| {
        panic!("MariaDB/MySQL must be running at {base} for the SingleStore-backend tests (scripts/test.sh starts it): {e}")
    });
    let db = format!("fleetdeck_t_{}", uuid_like());
    conn.query_drop(format!("CREATE DATABASE {db}"))
        .await
        .unwrap();
    drop(conn);
    pool.disconnect().await.unwrap();
    let url = format!("{}/{db}", base.rsplit_once('/').unwrap().0);
    let store = FleetStore::open(&url.parse().unwrap()).await.unwrap();
    (store, db)
}

async fn drop_mysql_db(db: &str) {
    let pool = mysql_async::Pool::new(mysql_base_url().as_str());
    let mut conn = pool.get_conn().await.unwrap();
    conn.query_drop(format!("DROP DATABASE IF EXISTS {db}"))
        .await
        .unwrap();
    drop(conn);
    pool.disconnect().await.unwrap();
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}_{}", nanos, std::process::id())
}

fn checkin(device_id: &str, id: &str, at: i64, cpu: i64) -> Checkin {
    Checkin {
        id: id.into(),
        device_id: device_id.into(),
        checked_in_at: at,
        cpu_load: cpu,
        cpu_count: 4,
        free_memory: 600 << 20,
        total_memory: 1 << 30,
        free_hdd: 9 << 20,
        total_hdd: 16 << 20,
        uptime_secs: 3600,
        version: "7.16.2 (stable)".into(),
        board_name: "RB4011iGS+".into(),
        identity: "core-rtr-1".into(),
        serial: Some("HG1234".into()),
        rx_bytes: 1_000_000,
        tx_bytes: 420_000,
    }
}

async fn behaves_like_a_fleet_store(store: &FleetStore) {
    let new = NewDevice {
        host: "10.20.0.1".into(),
        port: 8728,
        username: "admin".into(),
    };
    let dev = store.add_device(&new).await.unwrap();
    assert_eq!(dev.host, "10.20.0.1");
    assert_eq!(dev.last_checkin_at, None);
    assert!(matches!(
        store.add_device(&new).await,
        Err(StoreError::DuplicateDevice { port: 8728, .. })
    ));
    let other = store
        .add_device(&NewDevice {
            port: 8729,
            ..new.clone()
        })
        .await
        .unwrap();
    assert_ne!(other.id, dev.id);
    assert_eq!(store.list_devices().await.unwrap().len(), 2);
    assert_eq!(
        store
            .find_device("10.20.0.1", 8729)
            .await
            .unwrap()
            .unwrap()
            .id,
        other.id
    );
    assert!(matches!(
        store.get_device("nope").await,
        Err(StoreError::NotFound(_))
    ));

    // A failed poll is remembered ...
    store
        .record_poll_failure(&dev.id, 500, "could not reach the router")
        .await
        .unwrap();
    let d = store.get_device(&dev.id).await.unwrap();
    assert_eq!(d.last_error.as_deref(), Some("could not reach the router"));
    assert_eq!(d.last_polled_at, Some(500));

    // ... and cleared by a check-in, which also updates the latest state.
    let t0 = 1_700_000_000_000i64;
    for (i, cpu) in [10, 20, 30, 40, 50, 60].into_iter().enumerate() {
        store
            .record_checkin(&checkin(
                &dev.id,
                &format!("k{i}"),
                t0 + i as i64 * 1000,
                cpu,
            ))
            .await
            .unwrap();
    }
    let d = store.get_device(&dev.id).await.unwrap();
    assert_eq!(d.last_error, None);
    assert_eq!(d.last_checkin_at, Some(t0 + 5000));
    assert_eq!(d.last_cpu_load, Some(60.0));
    assert_eq!(d.identity.as_deref(), Some("core-rtr-1"));
    assert_eq!(d.serial.as_deref(), Some("HG1234"));
    assert_eq!(store.count_checkins(&dev.id).await.unwrap(), 6);

    // An old check-in arriving late is stored but does not roll back the
    // latest state; a retried one is not stored twice.
    store
        .record_checkin(&checkin(&dev.id, "late", t0 - 1000, 99))
        .await
        .unwrap();
    store
        .record_checkin(&checkin(&dev.id, "k0", t0, 10))
        .await
        .unwrap();
    assert_eq!(store.count_checkins(&dev.id).await.unwrap(), 7);
    assert_eq!(
        store.get_device(&dev.id).await.unwrap().last_cpu_load,
        Some(60.0)
    );

    assert_eq!(
        store.checkin_span(&dev.id, t0).await.unwrap(),
        Some((t0, t0 + 5000))
    );
    assert_eq!(store.checkin_span(&other.id, 0).await.unwrap(), None);

    assert_eq!(
        store.stats().await.unwrap(),
        vec![("devices", 2), ("site_checkins", 7)]
    );

    // The chart query averages in the database: 3 buckets of 2 seconds.
    let series = store.cpu_series(&dev.id, t0, t0 + 6000, 3).await.unwrap();
    let got: Vec<(i64, f64)> = series.iter().map(|p| (p.at - t0, p.value)).collect();
    assert_eq!(got, vec![(0, 15.0), (2000, 35.0), (4000, 55.0)]);
    assert!(store
        .cpu_series(&other.id, t0, t0 + 6000, 3)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn embedded_store_behaviour() {
    let dir = tempfile::tempdir().unwrap();
    let url = StoreUrl::Sqlite(dir.path().join("nested/fleet.db"));
    let store = FleetStore::open(&url).await.unwrap();
    assert_eq!(store.backend_name(), "sqlite");
    behaves_like_a_fleet_store(&store).await;
    drop(store);
    // Reopening runs no migration twice and keeps every record.
    let again = FleetStore::open(&url).await.unwrap();
    assert_eq!(again.list_devices().await.unwrap().len(), 2);
}

#[tokio::test]
async fn mysql_backend_behaviour() {
    let (store, db) = mysql_store().await;
    assert_eq!(store.backend_name(), "mysql");
    behaves_like_a_fleet_store(&store).await;
    // Reopening the same database is a no-op migration.
    let url = format!("{}/{db}", mysql_base_url().rsplit_once('/').unwrap().0);
    let again = FleetStore::open(&url.parse().unwrap()).await.unwrap();
    assert_eq!(again.list_devices().await.unwrap().len(), 2);
    drop_mysql_db(&db).await;
}

#[tokio::test]
async fn unreachable_database_is_a_clear_error() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let url: StoreUrl = format!("mysql://fleet:secret@127.0.0.1:{port}/fleet")
        .parse()
        .unwrap();
    let err = FleetStore::open(&url).await.err().unwrap();
    let text = err.to_string();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err:?}");
    assert!(
        text.contains("could not reach the fleet database"),
        "{text}"
    );
    assert!(!text.contains("secret"), "password leaked: {text}");
}
