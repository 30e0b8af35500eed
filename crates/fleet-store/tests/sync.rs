//! Sync between the embedded store and the shared database (real MariaDB),
//! and what happens when the database goes away mid-write: a TCP proxy in
//! the test cuts the connection in the middle of a batch.

mod common;
use common::{proxy::Proxy, *};

use fleet_store::{sync, *};

const T0: i64 = 1_700_002_800_000;

fn checkin(device_id: &str, at: i64, cpu: i64) -> Checkin {
    Checkin {
        device_id: device_id.into(),
        checked_in_at: at,
        cpu_load: cpu,
        cpu_count: 1,
        free_memory: 100 << 20,
        total_memory: 256 << 20,
        free_hdd: 4 << 20,
        total_hdd: 16 << 20,
        uptime_secs: 60,
        version: "7.15.3 (stable)".into(),
        board_name: "hEX S".into(),
        identity: format!("rtr-{}", &device_id[device_id.len() - 4..]),
        serial: None,
        rx_bytes: at,
        tx_bytes: at / 2,
        rx_bps: 1000,
        tx_bps: 250,
    }
}

async fn local_store(dir: &tempfile::TempDir, name: &str) -> FleetStore {
    FleetStore::open(&StoreUrl::Sqlite(dir.path().join(name)))
        .await
        .unwrap()
}

fn table_counts(stats: Vec<(&'static str, u64)>) -> Vec<(&'static str, u64)> {
    stats.into_iter().filter(|(t, _)| *t != "outbox").collect()
}

/// Every dashboard answer, for comparing two stores.
/// Raw series start at `raw_from`; longer ones read the rollups.
async fn dashboards(store: &FleetStore, devices: &[String], raw_from: i64) -> String {
    let now = T0 + 10 * HOUR_MS;
    let mut out = format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n",
        store
            .fleet_summary(now, HealthThresholds::default())
            .await
            .unwrap(),
        store.version_distribution().await.unwrap(),
        store.cpu_distribution(0).await.unwrap(),
        store.top_cpu(0, 5).await.unwrap(),
        store.pressure(0, 50.0, 5).await.unwrap(),
        store.checkins_per_hour(T0 - HOUR_MS, now).await.unwrap(),
    );
    for d in devices {
        for (from, points) in [(T0, 3), (raw_from, 200)] {
            let s = store.device_series(d, from, now, points).await.unwrap();
            // Floats summed in a different order may differ in the last bit.
            let rounded: Vec<String> = s
                .points
                .iter()
                .map(|p| {
                    format!(
                        "{} {:.6} {} {:.6} {:.3} {}",
                        p.at, p.cpu_load, p.cpu_max, p.memory_used_pct, p.rx_bps, p.checkins
                    )
                })
                .collect();
            out.push_str(&format!("{:?} {:?}\n", s.resolution, rounded));
        }
    }
    out
}

#[tokio::test]
async fn outbox_delivers_records_made_on_site_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let local = local_store(&dir, "laptop.db").await;
    let (remote, db) = mysql_store().await;

    let site = Site {
        id: new_id(),
        name: "Quarry".into(),
        poll_interval_secs: 30,
        updated_at: 100,
    };
    local.save_site(&site).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        let d = local
            .add_device(&NewDevice {
                host: format!("192.168.88.{}", i + 1),
                port: 8728,
                username: "admin".into(),
                transport: Default::default(),
                site_id: Some(site.id.clone()),
                tags: vec!["new".into()],
            })
            .await
            .unwrap();
        ids.push(d.id);
    }
    let batch: Vec<Checkin> = (0..600)
        .map(|i| checkin(&ids[i % 3], T0 + (i / 3) as i64 * 30_000, (i % 97) as i64))
        .collect();
    local.record_checkins(&batch[..300]).await.unwrap();
    local.record_checkins(&batch[300..]).await.unwrap();
    local
        .record_audit(&[AuditEvent {
            id: new_id(),
            at: T0,
            device_id: Some(ids[0].clone()),
            actor: "tech".into(),
            action: fleet_store::Named::from_text("device.added".into()),
            detail: String::new(),
        }])
        .await
        .unwrap();
    local
        .save_template(&Template {
            id: new_id(),
            name: "bootstrap".into(),
            body: "/system identity set name=x".into(),
            updated_at: 5,
        })
        .await
        .unwrap();
    local
        .save_pushes(&[PushRecord {
            id: new_id(),
            device_id: ids[1].clone(),
            template_id: None,
            started_at: T0,
            finished_at: Some(T0 + 1),
            status: fleet_store::Named::from_text("succeeded".into()),
            summary: "3 steps".into(),
            updated_at: T0 + 1,
            batch_id: Some(new_id()),
        }])
        .await
        .unwrap();
    let (entries, records) = local.outbox_size().await.unwrap();
    assert_eq!(
        (entries, records),
        (9, 607),
        "site, 3 devices, 2 batches, audit, template, push"
    );

    let report = sync::deliver_outbox(&local, &remote).await.unwrap();
    assert_eq!(report.entries_delivered, 9);
    assert_eq!(report.records_delivered, 607);
    assert_eq!(report.already_there, 0);
    assert_eq!(local.outbox_size().await.unwrap(), (0, 0));
    assert_eq!(
        table_counts(remote.stats().await.unwrap()),
        table_counts(local.stats().await.unwrap())
    );
    assert_eq!(
        dashboards(&remote, &ids, T0).await,
        dashboards(&local, &ids, T0).await
    );
    assert_eq!(
        remote.push_records(None, 10).await.unwrap(),
        local.push_records(None, 10).await.unwrap(),
        "push records arrive whole, with their bulk push"
    );

    // Delivering again finds nothing; recording the same check-ins again
    // queues nothing.
    assert_eq!(
        sync::deliver_outbox(&local, &remote)
            .await
            .unwrap()
            .entries_delivered,
        0
    );
    assert_eq!(local.record_checkins(&batch).await.unwrap().inserted, 0);
    assert_eq!(local.outbox_size().await.unwrap(), (0, 0));

    // Conflict rule: the newer edit wins, on either side.
    let newer_remote = Site {
        name: "Quarry East".into(),
        updated_at: 200,
        ..site.clone()
    };
    remote.save_site(&newer_remote).await.unwrap();
    let older_local = Site {
        name: "Quarry West".into(),
        updated_at: 150,
        ..site.clone()
    };
    local.save_site(&older_local).await.unwrap();
    sync::deliver_outbox(&local, &remote).await.unwrap();
    assert_eq!(remote.list_sites().await.unwrap()[0].name, "Quarry East");

    // A snapshot of the shared database into a fresh laptop store answers
    // every dashboard the same, twice over (idempotent).
    let fresh = local_store(&dir, "other-laptop.db").await;
    let window = T0 + HOUR_MS;
    for round in 0..2 {
        let snap = sync::snapshot(&remote, &fresh, window).await.unwrap();
        assert_eq!(snap.devices, if round == 0 { 3 } else { 0 });
        assert_eq!(snap.checkins, if round == 0 { 240 } else { 0 });
        assert_eq!(
            table_counts(fresh.stats().await.unwrap())
                .into_iter()
                .filter(|(t, _)| *t != "checkins")
                .collect::<Vec<_>>(),
            table_counts(remote.stats().await.unwrap())
                .into_iter()
                .filter(|(t, _)| *t != "checkins")
                .collect::<Vec<_>>()
        );
        assert_eq!(
            dashboards(&fresh, &ids, window).await,
            dashboards(&remote, &ids, window).await
        );
    }
    assert_eq!(fresh.list_sites().await.unwrap()[0].name, "Quarry East");
    assert_eq!(
        fresh.outbox_size().await.unwrap(),
        (0, 0),
        "pulled records are not re-queued"
    );
    // Only the window's raw rows were copied; older hours come as rollups.
    let copied: u64 = common::rows(&fresh, "checkins").await;
    assert_eq!(copied, 240);
    // The full sync (deliver, then snapshot) also works into the first laptop.
    let full = sync::sync(&local, &remote, T0).await.unwrap();
    assert_eq!(full.checkins, 0, "the laptop already had every check-in");
    drop_mysql_db(&db).await;
}

#[tokio::test]
async fn database_lost_mid_batch_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let local = local_store(&dir, "site.db").await;
    let db = create_db().await;
    let proxy = Proxy::start(3306).await;
    let via_proxy: StoreUrl = url_via(proxy.port, &db).parse().unwrap();
    let remote = FleetStore::open(&via_proxy).await.unwrap();

    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(
            local
                .add_device(&NewDevice {
                    host: format!("10.0.0.{i}"),
                    port: 8728,
                    username: "admin".into(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .id,
        );
    }
    sync::deliver_outbox(&local, &remote).await.unwrap();

    // Ten batches of 2,000 check-ins made on site.
    let mut total = 0;
    for b in 0..10i64 {
        let batch: Vec<Checkin> = (0..2_000)
            .map(|i| {
                checkin(
                    &ids[i % 20],
                    T0 + (b * 100 + (i / 20) as i64) * 30_000,
                    (i % 100) as i64,
                )
            })
            .collect();
        total += local.record_checkins(&batch).await.unwrap().inserted;
    }
    assert_eq!(total, 20_000);

    // The database goes away 150 KB into the deliveries: in the middle of
    // the first batch's multi-row INSERT.
    proxy.cut_after(150_000);
    let err = sync::deliver_outbox(&local, &remote).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("fleet database") || text.contains("could not reach"),
        "a technician should read what happened: {text}"
    );
    let (entries, records) = local.outbox_size().await.unwrap();
    assert!(
        entries >= 1 && records >= 2_000,
        "undelivered records stay queued"
    );
    let landed = count(&db, "SELECT COUNT(*) FROM checkins").await;
    assert!(
        landed < 20_000,
        "the cut happened mid-delivery ({landed} landed)"
    );
    assert_eq!(
        landed % 2_000,
        0,
        "a batch lands whole or not at all ({landed})"
    );

    // Still down: a retry fails and changes nothing.
    assert!(sync::deliver_outbox(&local, &remote).await.is_err());
    assert_eq!(local.outbox_size().await.unwrap(), (entries, records));

    // Back up: a later sync delivers everything exactly once.
    proxy.restore();
    let mut delivered = None;
    for _ in 0..3 {
        // The pool may hand out a connection the cut killed; that attempt
        // fails cleanly and the next one gets a fresh connection.
        match sync::deliver_outbox(&local, &remote).await {
            Ok(r) => {
                delivered = Some(r);
                break;
            }
            Err(e) => eprintln!("retrying after: {e}"),
        }
    }
    let report = delivered.expect("delivered after the database came back");
    assert_eq!(report.records_delivered, records);
    assert_eq!(local.outbox_size().await.unwrap(), (0, 0));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM checkins").await, 20_000);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT device_id, checked_in_at) FROM checkins"
        )
        .await,
        20_000
    );
    assert_eq!(
        count(
            &db,
            "SELECT CAST(SUM(checkins) AS SIGNED) FROM fleet_hourly"
        )
        .await,
        20_000,
        "rollups count every check-in once"
    );
    assert_eq!(
        count(
            &db,
            "SELECT CAST(SUM(checkins) AS SIGNED) FROM device_hourly"
        )
        .await,
        20_000
    );
    let local_count: u64 = common::rows(&local, "checkins").await;
    assert_eq!(local_count, 20_000);
    drop(remote);
    drop(proxy);
    drop_mysql_db(&db).await;
}

/// A shared record whose transport Fleetdeck does not know (written behind
/// the app's back) stops the sync: it is never read as plain API, and the
/// router on this laptop keeps its API-SSL transport.
#[tokio::test]
async fn a_shared_record_with_an_unknown_transport_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let local = local_store(&dir, "laptop.db").await;
    let (shared, db) = mysql_store().await;
    local
        .add_device(&NewDevice {
            host: "10.9.0.1".into(),
            port: 8729,
            username: "admin".into(),
            transport: Default::default(),
            site_id: None,
            tags: vec![],
        })
        .await
        .unwrap();
    let mut record = local.device_records().await.unwrap().remove(0);
    record.transport = Transport::ApiSsl;
    record.updated_at += 1;
    local
        .save_devices(std::slice::from_ref(&record))
        .await
        .unwrap();
    sync::sync(&local, &shared, 0).await.unwrap();

    let pool = mysql_async::Pool::new(raw_db_url(&db).as_str());
    let mut conn = pool.get_conn().await.unwrap();
    use mysql_async::prelude::Queryable;
    conn.query_drop(format!(
        "UPDATE devices SET transport = 'tls', updated_at = {} WHERE id = '{}'",
        i64::MAX / 2,
        record.id
    ))
    .await
    .unwrap();
    drop(conn);
    pool.disconnect().await.unwrap();

    let err = sync::sync(&local, &shared, 0)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("transport is \"tls\""), "{err}");
    let kept = local.device_records().await.unwrap().remove(0);
    assert_eq!(
        kept.transport,
        Transport::ApiSsl,
        "never downgraded to plain"
    );
    assert!(
        shared.list_devices().await.is_err(),
        "reading the record fails closed"
    );
    drop_mysql_db(&db).await;
}

/// Audit events and pushes copied down are those of the inventory's
/// routers (and fleet-wide events): one written into the shared database
/// for a router that is not in it stays there.
#[tokio::test]
async fn only_the_inventorys_history_is_copied_down() {
    let dir = tempfile::tempdir().unwrap();
    let local = local_store(&dir, "laptop.db").await;
    let (shared, db) = mysql_store().await;
    let known = shared
        .add_device(&NewDevice {
            host: "10.8.0.1".into(),
            port: 8729,
            username: "admin".into(),
            transport: Transport::ApiSsl,
            site_id: None,
            tags: vec![],
        })
        .await
        .unwrap();
    let event = |device: Option<&str>, action: &str| AuditEvent {
        id: new_id(),
        at: T0,
        device_id: device.map(str::to_owned),
        actor: "someone".into(),
        action: fleet_store::Named::from_text(action.into()),
        detail: String::new(),
    };
    shared
        .record_audit(&[
            event(Some(&known.id), "push.succeeded"),
            event(None, "sync.done"),
            event(Some("not-a-router-here"), "credentials.address-confirmed"),
        ])
        .await
        .unwrap();
    let report = sync::snapshot(&shared, &local, T0).await.unwrap();
    assert_eq!(report.audit_events, 2, "{report:?}");
    let copied: Vec<String> = local
        .audit_events(None, i64::MIN, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action.to_string())
        .collect();
    assert!(copied.contains(&"push.succeeded".to_string()), "{copied:?}");
    assert!(copied.contains(&"sync.done".to_string()), "{copied:?}");
    assert!(
        !copied.contains(&"credentials.address-confirmed".to_string()),
        "{copied:?}"
    );
    drop_mysql_db(&db).await;
}

/// The shared database goes silent in the middle of a sync (it accepts
/// connections and never answers): the sync ends within the store's
/// bound with words that say so, and what it did not deliver stays queued.
/// Once the database answers, a sync delivers the rest, once.
#[tokio::test]
async fn a_sync_to_a_database_gone_silent_ends_within_the_bound_and_keeps_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let local = local_store(&dir, "site.db").await;
    let db = create_db().await;
    let proxy = Proxy::start(3306).await;
    let via_proxy: StoreUrl = url_via(proxy.port, &db).parse().unwrap();
    let bounded = StoreOptions {
        timeout: std::time::Duration::from_secs(2),
        ..Default::default()
    };
    let remote = FleetStore::open_with(&via_proxy, bounded).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            local
                .add_device(&NewDevice {
                    host: format!("10.0.1.{i}"),
                    port: 8728,
                    username: "admin".into(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .id,
        );
    }
    sync::deliver_outbox(&local, &remote).await.unwrap();
    for b in 0..5i64 {
        let batch: Vec<Checkin> = (0..500)
            .map(|i| checkin(&ids[i % 5], T0 + (b * 100 + (i / 5) as i64) * 30_000, 7))
            .collect();
        local.record_checkins(&batch).await.unwrap();
    }
    proxy.go_silent();
    let err = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        sync::deliver_outbox(&local, &remote),
    )
    .await
    .expect("the sync ends while the database is silent")
    .unwrap_err();
    assert!(matches!(err, StoreError::TimedOut { .. }), "{err:?}");
    assert!(
        err.to_string().contains("did not answer within 2 s"),
        "{err}"
    );
    let (entries, records) = local.outbox_size().await.unwrap();
    assert!(
        entries >= 1 && records >= 500,
        "kept queued: {entries} {records}"
    );
    proxy.restore();
    // A fresh link: the silent one's connections are mid-exchange.
    let again = FleetStore::open_with(&via_proxy, bounded).await.unwrap();
    sync::deliver_outbox(&local, &again).await.unwrap();
    assert_eq!(local.outbox_size().await.unwrap(), (0, 0));
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM checkins").await,
        2_500,
        "everything once"
    );
    drop((remote, again));
    drop_mysql_db(&db).await;
}

/// Configuration versions made on site travel through the outbox with
/// their text: the shared database holds the same versions and texts, a
/// text two versions share is stored there once, and a second sync adds
/// nothing.
#[tokio::test]
async fn configuration_versions_sync_with_their_text_once() {
    let dir = tempfile::tempdir().unwrap();
    let local = local_store(&dir, "laptop.db").await;
    let (remote, db) = mysql_store().await;
    let text_a = "/interface bridge add name=lan\n/system identity set name=shop-1\n";
    let text_b = "/interface bridge add name=lan\n/system identity set name=shop-2\n";
    let version = |device: &str, at: i64, text: &str| ConfigVersion {
        id: new_id(),
        device_id: device.to_owned(),
        taken_at: at,
        checked_at: at,
        hash: config_hash(text),
        routeros_version: Some("7.16.2".into()),
        board: Some("RB5009UG+S+".into()),
        serial: Some("HG0001".into()),
        push_id: None,
        drift: at > 1,
        line_count: text.lines().count() as u32,
    };
    let made = [
        (version("dev-a", 1, text_a), text_a),
        (version("dev-a", 2, text_b), text_b),
        (version("dev-b", 1, text_a), text_a),
    ];
    for (v, t) in &made {
        assert!(local.save_config_version(v, t).await.unwrap());
        // The same version again is not a second one.
        assert!(!local.save_config_version(v, t).await.unwrap());
    }
    // A version whose hash is not its text's is refused.
    let mut wrong = version("dev-a", 3, text_a);
    wrong.hash = config_hash(text_b);
    assert!(local.save_config_version(&wrong, text_a).await.is_err());
    assert_eq!(local.config_storage().await.unwrap().0, 2);
    // A sealed export (opaque bytes to the store) travels with its version.
    local
        .save_config_secret(&made[1].0.id, b"sealed bytes")
        .await
        .unwrap();

    let report = sync::deliver_outbox(&local, &remote).await.unwrap();
    assert_eq!(report.records_delivered, 4, "{report:?}");
    assert_eq!(
        remote
            .config_secret(&made[1].0.id)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"sealed bytes"[..])
    );
    assert_eq!(remote.config_secret(&made[0].0.id).await.unwrap(), None);
    let there = remote.config_versions(None, 10).await.unwrap();
    assert_eq!(there.len(), 3);
    for (v, t) in &made {
        assert!(there.contains(v), "{v:?} not in {there:?}");
        assert_eq!(
            remote.config_text(&v.hash).await.unwrap().as_deref(),
            Some(*t)
        );
    }
    assert_eq!(
        remote.config_storage().await.unwrap().0,
        2,
        "each text once"
    );
    let latest = remote.latest_config_versions().await.unwrap();
    assert_eq!(latest.len(), 2);
    assert_eq!(
        latest
            .iter()
            .find(|v| v.device_id == "dev-a")
            .unwrap()
            .taken_at,
        2
    );
    let again = sync::deliver_outbox(&local, &remote).await.unwrap();
    assert_eq!(again.records_delivered, 0);
    drop_mysql_db(&db).await;
}

/// Compliance rules made on site reach the shared database once; an older
/// edit does not overwrite a newer one, on either store; a name is one
/// rule's; a snapshot brings the shared rules down.
#[tokio::test]
async fn compliance_rules_sync_and_the_newer_edit_wins() {
    let dir = tempfile::tempdir().unwrap();
    let local = local_store(&dir, "laptop.db").await;
    let (remote, db) = mysql_store().await;
    let rule = ConfigRuleRecord {
        id: new_id(),
        name: "API from management only".into(),
        scope: "tag:core".into(),
        body: r#"{"kind":"mustNotContain","text":"/ip service set api address=\"\""}"#.into(),
        enabled: true,
        updated_at: 10,
    };
    for store in [&local, &remote] {
        assert!(store.save_config_rule(&rule).await.unwrap());
        let older = ConfigRuleRecord {
            enabled: false,
            updated_at: 5,
            ..rule.clone()
        };
        assert!(!store.save_config_rule(&older).await.unwrap());
        assert_eq!(store.list_config_rules().await.unwrap(), vec![rule.clone()]);
        let same_name = ConfigRuleRecord {
            id: new_id(),
            ..rule.clone()
        };
        let e = store.save_config_rule(&same_name).await.unwrap_err();
        assert!(e.to_string().contains("API from management only"), "{e}");
    }
    // Switched off on site, later: the shared database follows.
    let off = ConfigRuleRecord {
        enabled: false,
        updated_at: 20,
        ..rule.clone()
    };
    assert!(local.save_config_rule(&off).await.unwrap());
    let report = sync::deliver_outbox(&local, &remote).await.unwrap();
    assert_eq!(report.records_delivered, 2, "{report:?}");
    assert_eq!(remote.list_config_rules().await.unwrap(), vec![off.clone()]);
    // A rule made on the shared database comes down with a snapshot.
    let other = ConfigRuleRecord {
        id: new_id(),
        name: "DNS set".into(),
        scope: String::new(),
        body: r#"{"kind":"mustContain","text":"/ip dns set"}"#.into(),
        enabled: true,
        updated_at: 30,
    };
    remote.save_config_rule(&other).await.unwrap();
    let fresh = local_store(&dir, "fresh.db").await;
    sync::snapshot(&remote, &fresh, 0).await.unwrap();
    assert_eq!(fresh.list_config_rules().await.unwrap(), vec![off, other]);
    drop_mysql_db(&db).await;
}

/// Backups of many routers save their versions at once: on the shared
/// database none of them is lost to a lock conflict between two routers'
/// line replacements.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_routers_save_versions_at_once_on_the_shared_database() {
    let (remote, db) = mysql_store().await;
    let remote = std::sync::Arc::new(remote);
    let mut tasks = Vec::new();
    for round in 0..2 {
        for d in 0..24 {
            let remote = remote.clone();
            tasks.push(tokio::spawn(async move {
                let text = format!(
                    "/system identity set name=r{d}\n/ip address add address=10.0.{d}.{round}/24 interface=ether1\n"
                );
                let v = ConfigVersion {
                    id: new_id(),
                    device_id: format!("dev-{d:02}"),
                    taken_at: 10 + round,
                    checked_at: 10 + round,
                    hash: config_hash(&text),
                    routeros_version: None,
                    board: None,
                    serial: None,
                    push_id: None,
                    drift: round > 0,
                    line_count: 2,
                };
                remote.save_config_version(&v, &text).await
            }));
        }
    }
    for t in tasks {
        assert!(t.await.unwrap().unwrap());
    }
    assert_eq!(remote.config_versions(None, 100).await.unwrap().len(), 48);
    // Search sees each router's newest version only.
    let hits = remote.search_configs("/ip address add", 100).await.unwrap();
    assert_eq!(hits.len(), 24, "{hits:?}");
    drop_mysql_db(&db).await;
}
