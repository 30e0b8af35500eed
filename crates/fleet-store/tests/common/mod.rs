//! Shared by the fleet-store integration tests: a fresh MariaDB database
//! per test on the real server (`FLEETDECK_TEST_MYSQL_URL` overrides
//! `mysql://root@127.0.0.1:3306/test`). A missing server is a failure.
//!
//! Stores reach it as Fleetdeck does by default, over verified TLS: the
//! server's certificate comes from the test CA that scripts/test.sh makes
//! (`FLEETDECK_TEST_MYSQL_CA`). The helpers' own direct connections (to
//! create and count) go through the driver as it is.
#![allow(dead_code)]

pub mod proxy;

use fleet_store::{Checkin, FleetStore};
use mysql_async::prelude::*;

pub fn mysql_base_url() -> String {
    std::env::var("FLEETDECK_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// A fresh database per test, so tests run in parallel without sharing rows.
pub async fn mysql_store() -> (FleetStore, String) {
    let db = create_db().await;
    let store = FleetStore::open(&db_url(&db).parse().unwrap())
        .await
        .unwrap();
    (store, db)
}

/// Creates an empty database and returns its name.
pub async fn create_db() -> String {
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
    db
}

pub async fn drop_mysql_db(db: &str) {
    let pool = mysql_async::Pool::new(mysql_base_url().as_str());
    let mut conn = pool.get_conn().await.unwrap();
    conn.query_drop(format!("DROP DATABASE IF EXISTS {db}"))
        .await
        .unwrap();
    drop(conn);
    pool.disconnect().await.unwrap();
}

pub fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{:x}_{}_{n}", nanos, std::process::id())
}

/// The test CA's certificate, which the server's certificate is signed by.
pub fn test_ca() -> String {
    std::env::var("FLEETDECK_TEST_MYSQL_CA")
        .unwrap_or_else(|_| "/etc/mysql/fleetdeck-test-tls/ca.pem".into())
}

/// The query that makes a store trust the test CA: `?ca=…`.
pub fn tls_query() -> String {
    format!("?ca={}", test_ca())
}

/// The store URL of database `db` on the test server, over verified TLS.
pub fn db_url(db: &str) -> String {
    format!("{}{}", raw_db_url(db), tls_query())
}

/// Database `db` on the test server, for the driver's own connections.
pub fn raw_db_url(db: &str) -> String {
    format!("{}/{db}", mysql_base_url().rsplit_once('/').unwrap().0)
}

/// The store URL of database `db` through a proxy on loopback `port`.
pub fn url_via(port: u16, db: &str) -> String {
    format!("mysql://root@127.0.0.1:{port}/{db}{}", tls_query())
}

/// A direct connection to database `db`, for counting rows behind the
/// store's back.
pub async fn count(db: &str, sql: &str) -> i64 {
    let pool = mysql_async::Pool::new(raw_db_url(db).as_str());
    let mut conn = pool.get_conn().await.unwrap();
    let n: Option<i64> = conn.query_first(sql).await.unwrap();
    drop(conn);
    pool.disconnect().await.unwrap();
    n.unwrap()
}

/// Rows in one table of a store, from its own statistics.
pub async fn rows(store: &FleetStore, table: &str) -> u64 {
    store
        .stats()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.0 == table)
        .unwrap_or_else(|| panic!("no table {table}"))
        .1
}

/// A check-in as a healthy router reports it.
pub fn checkin(device_id: &str, at: i64, cpu: i64) -> Checkin {
    Checkin {
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
        rx_bps: 8_000,
        tx_bps: 2_000,
    }
}
