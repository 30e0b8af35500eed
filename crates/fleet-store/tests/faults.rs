//! The store under database faults: the real MariaDB through a proxy that
//! slows it down, cuts a transaction in the middle, or lets a `COMMIT`
//! through and loses its acknowledgement; and the embedded store on a full
//! disk. The invariants: nothing acknowledged is lost, nothing is stored
//! twice when the caller sends again what it was not told was stored, and
//! every call ends, with words that say what happened.

use std::time::Duration;

use fleet_store::*;

mod common;
use common::{proxy::Proxy, *};

/// An hour boundary, so the rollup sums are exact.
const T0: i64 = 1_700_002_800_000;

async fn routers(store: &FleetStore, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let device = store
            .add_device(&NewDevice {
                host: format!("10.9.0.{i}"),
                port: 8728,
                username: "admin".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        ids.push(device.id);
    }
    ids
}

/// `per_router` check-ins of each router, 30 s apart from `from`.
fn batch(ids: &[String], from: i64, per_router: usize) -> Vec<Checkin> {
    (0..ids.len() * per_router)
        .map(|i| {
            checkin(
                &ids[i % ids.len()],
                from + (i / ids.len()) as i64 * 30_000,
                (i % 100) as i64,
            )
        })
        .collect()
}

/// Check-ins counted behind the store's back, and as the hourly rollups
/// count them (a batch applied twice would double the rollups).
async fn stored(db: &str) -> (i64, i64) {
    (
        count(db, "SELECT COUNT(*) FROM checkins").await,
        count(
            db,
            "SELECT CAST(COALESCE(SUM(checkins), 0) AS SIGNED) FROM device_hourly",
        )
        .await,
    )
}

async fn through_proxy(db: &str, timeout: Duration) -> (Proxy, FleetStore) {
    through(db, timeout, true).await
}

/// The store through a proxy, over TLS or, where the proxy must read the
/// statements to find the `COMMIT`, in clear on loopback.
async fn through(db: &str, timeout: Duration, tls: bool) -> (Proxy, FleetStore) {
    let proxy = Proxy::start(3306).await;
    let url: StoreUrl = if tls {
        url_via(proxy.port, db)
    } else {
        format!("mysql://root@127.0.0.1:{}/{db}?tls=off", proxy.port)
    }
    .parse()
    .unwrap();
    let store = FleetStore::open_with(
        &url,
        StoreOptions {
            timeout,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    (proxy, store)
}

/// A slow database still stores every check-in; one slower than the
/// store's bound is an error that says so, and sending the batch again
/// once it is fast stores what was missing, nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_database_stores_everything_or_says_it_timed_out() {
    let db = create_db().await;
    let (proxy, store) = through_proxy(&db, Duration::from_secs(2)).await;
    let ids = routers(&store, 10).await;
    proxy.slow(Duration::from_millis(20));
    let first = batch(&ids, T0, 20);
    let r = store.record_checkins(&first).await.unwrap();
    assert_eq!(r.inserted, 200);
    assert_eq!(stored(&db).await, (200, 200));

    proxy.slow(Duration::from_secs(3));
    let second = batch(&ids, T0 + HOUR_MS, 20);
    let err = store.record_checkins(&second).await.unwrap_err();
    assert!(matches!(err, StoreError::TimedOut { .. }), "{err:?}");
    assert!(
        err.to_string().contains("did not answer within 2 s"),
        "{err}"
    );
    proxy.restore();
    let r = until_stored(&store, &second).await;
    assert_eq!(r.inserted + r.duplicates, 200, "{r:?}");
    assert_eq!(stored(&db).await, (400, 400), "nothing lost, nothing twice");
    drop(store);
    drop_mysql_db(&db).await;
}

/// Sends `batch` again until the store takes it, as the telemetry writer
/// does (a connection the last fault cut may fail the first try), within a
/// generous deadline.
async fn until_stored(store: &FleetStore, batch: &[Checkin]) -> IngestReport {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        match store.record_checkins(batch).await {
            Ok(r) => return r,
            Err(e) if tokio::time::Instant::now() >= deadline => {
                panic!("the store never took the batch: {e}")
            }
            // The pool drops the cut connection; the next try opens one.
            Err(_) => tokio::task::yield_now().await,
        }
    }
}

/// The connection is reset in the middle of a transaction: the caller is
/// told it failed, and nothing of the batch is stored (the server rolls it
/// back); sent again, all of it is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_mid_transaction_stores_none_of_it_and_the_retry_all() {
    let db = create_db().await;
    let (proxy, store) = through_proxy(&db, Duration::from_secs(30)).await;
    let ids = routers(&store, 50).await;
    let big = batch(&ids, T0, 40);
    // The batch's statements are far larger than this: the cut lands
    // after the transaction began, inside its inserts.
    proxy.cut_after(40_000);
    let err = store.record_checkins(&big).await.unwrap_err();
    assert!(
        !err.is_refusal(),
        "a lost link is not a refused row: {err:?}"
    );
    assert_eq!(stored(&db).await, (0, 0), "none of a cut transaction");
    proxy.restore();
    let r = until_stored(&store, &big).await;
    assert_eq!(r.inserted, 2_000, "{r:?}");
    assert_eq!(stored(&db).await, (2_000, 2_000));
    drop(store);
    drop_mysql_db(&db).await;
}

/// The `COMMIT` is done on the server and its acknowledgement is lost:
/// the caller is told the write failed although it is stored. Sending it
/// again, as the telemetry writer does, stores nothing twice: check-ins
/// have a key (router and time), and the rollups are not counted again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_acknowledgement_is_lost_is_not_stored_twice() {
    let db = create_db().await;
    let (proxy, store) = through(&db, Duration::from_secs(30), false).await;
    let ids = routers(&store, 10).await;
    let rows = batch(&ids, T0, 30);
    proxy.lose_next_commit_ack();
    let err = store.record_checkins(&rows).await.unwrap_err();
    assert_eq!(proxy.acks_lost(), 1, "the fault fired: {err:?}");
    assert_eq!(stored(&db).await, (300, 300), "committed, unacknowledged");
    let r = until_stored(&store, &rows).await;
    assert_eq!(
        r,
        IngestReport {
            inserted: 0,
            duplicates: 300
        }
    );
    assert_eq!(stored(&db).await, (300, 300), "nothing twice");
    drop(store);
    drop_mysql_db(&db).await;
}

/// The embedded store on a full disk (reproduced with SQLite's page
/// limit): a write that does not fit fails whole, with words that say the
/// disk is full and what to do; everything acknowledged before is there;
/// with room again, the same write goes through.
#[tokio::test]
async fn a_full_disk_fails_the_write_whole_and_keeps_what_was_stored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet.db");
    let url = StoreUrl::Sqlite(path.clone());
    let ids = {
        let store = FleetStore::open(&url).await.unwrap();
        routers(&store, 20).await
    };
    let pages: u64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    let full = FleetStore::open_with(
        &url,
        StoreOptions {
            page_limit: Some(pages + 40),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut acknowledged = 0u64;
    let mut refused = None;
    for hour in 0..2_000 {
        let rows = batch(&ids, T0 + hour * HOUR_MS, 2);
        match full.record_checkins(&rows).await {
            Ok(r) => acknowledged += r.inserted,
            Err(e) => {
                refused = Some((e, rows));
                break;
            }
        }
    }
    let (err, rows) = refused.expect("the page limit is reached");
    assert!(matches!(err, StoreError::DiskFull), "{err:?}");
    assert!(err.to_string().contains("disk holding it is full"), "{err}");
    assert!(acknowledged > 0);
    assert_eq!(
        stored_in(&full, &ids).await,
        acknowledged,
        "all acknowledged, none of the failed"
    );
    drop(full);
    // Room again (the limit gone): the same batch is stored.
    let roomy = FleetStore::open(&url).await.unwrap();
    let r = roomy.record_checkins(&rows).await.unwrap();
    assert_eq!(r.inserted, rows.len() as u64);
    assert_eq!(
        stored_in(&roomy, &ids).await,
        acknowledged + rows.len() as u64
    );
}

async fn stored_in(store: &FleetStore, ids: &[String]) -> u64 {
    let mut n = 0;
    for id in ids {
        n += store.count_checkins(id).await.unwrap();
    }
    n
}
