//! The same behaviour, checked on both backends: the embedded SQLite file and
//! the real MariaDB server on 127.0.0.1:3306 (`FLEETDECK_TEST_MYSQL_URL`
//! overrides it). A missing MariaDB is a failure, not a skip.

use fleet_store::*;

mod common;
use common::{proxy::Proxy, *};

/// An hour boundary, so rollup arithmetic in the tests is exact.
const T0: i64 = 1_700_002_800_000;

async fn behaves_like_a_fleet_store(store: &FleetStore) {
    // Sites: unique names, and an older edit never overwrites a newer one.
    let site = Site {
        id: new_id(),
        name: "Depot North".into(),
        poll_interval_secs: 30,
        updated_at: 1_000,
    };
    assert!(store.save_site(&site).await.unwrap());
    let stale = Site {
        name: "stale name".into(),
        updated_at: 999,
        ..site.clone()
    };
    assert!(!store.save_site(&stale).await.unwrap());
    assert_eq!(store.list_sites().await.unwrap(), vec![site.clone()]);
    let clash = Site {
        id: new_id(),
        ..site.clone()
    };
    assert!(matches!(
        store.save_site(&clash).await,
        Err(StoreError::DuplicateName { what: "site", .. })
    ));

    let new = NewDevice {
        host: "10.20.0.1".into(),
        port: 8728,
        username: "admin".into(),
        transport: Default::default(),
        site_id: Some(site.id.clone()),
        tags: vec!["core".into(), " lte ".into(), "core".into()],
    };
    let dev = store.add_device(&new).await.unwrap();
    assert_eq!(dev.host, "10.20.0.1");
    assert_eq!(dev.site_id.as_deref(), Some(site.id.as_str()));
    assert_eq!(dev.tags, vec!["core", "lte"]);
    assert_eq!(dev.last_checkin_at, None);
    assert!(matches!(
        store.add_device(&new).await,
        Err(StoreError::DuplicateDevice { port: 8728, .. })
    ));
    assert!(matches!(
        store
            .add_device(&NewDevice {
                port: 9999,
                site_id: Some("no-such-site".into()),
                ..new.clone()
            })
            .await,
        Err(StoreError::NotFound(_))
    ));
    let other = store
        .add_device(&NewDevice {
            port: 8729,
            site_id: None,
            tags: vec![],
            ..new.clone()
        })
        .await
        .unwrap();
    assert_ne!(other.id, dev.id);
    // The router list: tags joined to their routers, an untagged router
    // with none, ordered by name (the address until one is known), port.
    let listed = store.list_devices().await.unwrap();
    let shape: Vec<(&str, u16, Vec<String>)> = listed
        .iter()
        .map(|d| (d.id.as_str(), d.port, d.tags.clone()))
        .collect();
    assert_eq!(
        shape,
        vec![
            (
                dev.id.as_str(),
                8728,
                vec!["core".to_string(), "lte".to_string()]
            ),
            (other.id.as_str(), 8729, vec![]),
        ]
    );
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
    // Six check-ins 20 minutes apart: three in each of two hours.
    let batch: Vec<Checkin> = [10, 20, 30, 40, 50, 60]
        .into_iter()
        .enumerate()
        .map(|(i, cpu)| checkin(&dev.id, T0 + i as i64 * 1_200_000, cpu))
        .collect();
    let report = store.record_checkins(&batch).await.unwrap();
    assert_eq!(
        report,
        IngestReport {
            inserted: 6,
            duplicates: 0
        }
    );
    let d = store.get_device(&dev.id).await.unwrap();
    assert_eq!(d.last_error, None);
    let last = T0 + 5 * 1_200_000;
    assert_eq!(d.last_checkin_at, Some(last));
    assert_eq!(d.last_cpu_load, Some(60.0));
    assert_eq!(d.identity.as_deref(), Some("core-rtr-1"));
    assert_eq!(d.serial.as_deref(), Some("HG1234"));
    assert_eq!(d.version.as_deref(), Some("7.16.2 (stable)"));
    assert_eq!(store.count_checkins(&dev.id).await.unwrap(), 6);

    // An old check-in arriving late is stored but does not roll back the
    // latest state; a check-in delivered twice is stored once and counted
    // once in the rollups. An empty identity keeps the known one.
    let mut late = checkin(&dev.id, T0 - 1000, 99);
    late.identity = String::new();
    let report = store
        .record_checkins(&[late, batch[0].clone()])
        .await
        .unwrap();
    assert_eq!(
        report,
        IngestReport {
            inserted: 1,
            duplicates: 1
        }
    );
    assert_eq!(store.count_checkins(&dev.id).await.unwrap(), 7);
    let d = store.get_device(&dev.id).await.unwrap();
    assert_eq!(d.last_cpu_load, Some(60.0));
    assert_eq!(d.identity.as_deref(), Some("core-rtr-1"));

    assert_eq!(
        store.checkin_span(&dev.id, T0).await.unwrap(),
        Some((T0, last))
    );
    assert_eq!(store.checkin_span(&other.id, 0).await.unwrap(), None);
    assert_eq!(
        store
            .checkins_of(&dev.id, T0, T0 + 1_200_000)
            .await
            .unwrap()[1]
            .cpu_load,
        20
    );

    // Raw series: 3 buckets of 40 minutes, averaged in the database.
    let series = store
        .device_series(&dev.id, T0, T0 + 7_200_000, 3)
        .await
        .unwrap();
    assert_eq!(series.resolution, Resolution::Raw);
    let got: Vec<(i64, f64, u64)> = series
        .points
        .iter()
        .map(|p| (p.at - T0, p.cpu_load, p.checkins))
        .collect();
    assert_eq!(
        got,
        vec![(0, 15.0, 2), (2_400_000, 35.0, 2), (4_800_000, 55.0, 2)]
    );
    let mem = 100.0 * (1024.0 - 600.0) / 1024.0;
    assert!((series.points[0].memory_used_pct - mem).abs() < 1e-9);
    assert_eq!(series.points[0].rx_bps, 8_000.0);
    // A long window reads the hourly rollups: the late check-in's hour,
    // then (10+20+30)/3 and (40+50+60)/3.
    let hourly = store
        .device_series(&dev.id, T0 - 3_600_000, T0 + 7_200_000 - 1, 2)
        .await
        .unwrap();
    assert_eq!(hourly.resolution, Resolution::Hourly);
    assert_eq!(hourly.bucket_ms, 2 * HOUR_MS);
    let by_hour = store
        .device_series(&dev.id, T0 - 3_600_000, T0 + 7_200_000, 1)
        .await
        .unwrap();
    assert_eq!(by_hour.points.len(), 1);
    assert_eq!(by_hour.points[0].checkins, 7);
    assert_eq!(by_hour.points[0].cpu_max, 99.0);
    let per_hour = store
        .device_series(&dev.id, T0, T0 + 7_200_000 - 1, 1)
        .await
        .unwrap();
    assert_eq!(per_hour.points[0].checkins, 6);
    assert!((per_hour.points[0].cpu_load - 35.0).abs() < 1e-9);
    let cpu = store
        .cpu_series(&dev.id, T0, T0 + 7_200_000, 3)
        .await
        .unwrap();
    assert_eq!(
        cpu.iter().map(|p| p.value).collect::<Vec<_>>(),
        vec![15.0, 35.0, 55.0]
    );
    assert!(store
        .device_series(&other.id, T0, T0 + 6000, 3)
        .await
        .unwrap()
        .points
        .is_empty());

    // Check-ins per hour, fleet-wide, with the empty hour present.
    let hours = store
        .checkins_per_hour(T0 - 2 * HOUR_MS, T0 + HOUR_MS + 1)
        .await
        .unwrap();
    let counts: Vec<(i64, u64)> = hours.iter().map(|h| (h.hour - T0, h.checkins)).collect();
    assert_eq!(
        counts,
        vec![(-2 * HOUR_MS, 0), (-HOUR_MS, 1), (0, 3), (HOUR_MS, 3)]
    );
    assert!((hours[2].avg_cpu - 20.0).abs() < 1e-9);

    // Dashboards over the latest state.
    let now = last + 10_000;
    let summary = store
        .fleet_summary(now, HealthThresholds::default())
        .await
        .unwrap();
    assert_eq!(
        summary,
        FleetSummary {
            total: 2,
            online: 1,
            degraded: 0,
            offline: 1,
            never_seen: 1
        }
    );
    let later = store
        .fleet_summary(now + 60_000, HealthThresholds::default())
        .await
        .unwrap();
    assert_eq!((later.online, later.degraded, later.offline), (0, 1, 1));
    let versions = store.version_distribution().await.unwrap();
    assert_eq!(
        versions,
        vec![
            Count {
                key: "7.16.2 (stable)".to_string(),
                devices: 1
            },
            Count {
                key: "unknown".to_string(),
                devices: 1
            }
        ]
    );
    let bands = store.cpu_distribution(0).await.unwrap();
    assert_eq!(bands.len(), 10);
    assert_eq!(
        bands[6],
        Count {
            key: 60,
            devices: 1
        }
    );
    assert_eq!(bands.iter().map(|b| b.devices).sum::<u64>(), 1);
    let top = store.top_cpu(0, 5).await.unwrap();
    assert_eq!(top.len(), 1);
    assert_eq!((top[0].name.as_str(), top[0].value), ("core-rtr-1", 60.0));
    let p = store.pressure(0, 40.0, 3).await.unwrap();
    assert_eq!((p.memory_high, p.storage_high), (1, 1));
    assert!((p.top_memory[0].value - mem).abs() < 1e-9);
    let p = store.pressure(0, 90.0, 3).await.unwrap();
    assert_eq!((p.memory_high, p.storage_high), (0, 0));
    assert!(store
        .pressure(now, 40.0, 3)
        .await
        .unwrap()
        .top_memory
        .is_empty());

    // Templates, audit events and push records.
    let tpl = Template {
        id: new_id(),
        name: "bootstrap".into(),
        body: "/system identity set name={{ name: name }}".into(),
        updated_at: 10,
    };
    assert!(store.save_template(&tpl).await.unwrap());
    assert_eq!(store.list_templates().await.unwrap(), vec![tpl.clone()]);
    let event = AuditEvent {
        id: new_id(),
        at: T0,
        device_id: Some(dev.id.clone()),
        actor: "tech".into(),
        action: fleet_store::Named::from_text("push.started".into()),
        detail: "{\"template\":\"bootstrap\"}".into(),
    };
    assert_eq!(
        store
            .record_audit(&[event.clone(), event.clone()])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.audit_events(Some(&dev.id), 0, 10).await.unwrap(),
        vec![event.clone()]
    );
    assert!(store
        .audit_events(Some(&other.id), 0, 10)
        .await
        .unwrap()
        .is_empty());
    // An action a newer Fleetdeck wrote is kept as written, not rewritten
    // to something this version knows.
    let newer = AuditEvent {
        id: new_id(),
        at: T0 - 1,
        device_id: Some(other.id.clone()),
        actor: "tech".into(),
        action: fleet_store::Named::from_text("backup.taken".into()),
        detail: "{}".into(),
    };
    store
        .record_audit(std::slice::from_ref(&newer))
        .await
        .unwrap();
    let read = store.audit_events(Some(&other.id), 0, 10).await.unwrap();
    assert_eq!(read, vec![newer.clone()]);
    assert_eq!(read[0].action.as_str(), "backup.taken");
    assert_eq!(read[0].action.known(), None);
    assert_eq!(event.action, fleet_store::AuditAction::PushStarted);
    let mut batch = fleet_store::PushBatch {
        id: new_id(),
        started_at: T0,
        finished_at: None,
        status: fleet_store::Named::from_text("running".into()),
        actor: "tech".into(),
        options: r#"{"waves":"1,100%"}"#.into(),
        targets: vec![dev.id.clone(), other.id.clone()],
        summary: String::new(),
        updated_at: T0,
    };
    assert!(store.save_batch(&batch).await.unwrap());
    batch.status = fleet_store::Named::from_text("paused".into());
    batch.updated_at = T0 + 10;
    store.save_batch(&batch).await.unwrap();
    let stale = fleet_store::PushBatch {
        status: fleet_store::Named::from_text("running".into()),
        updated_at: T0 + 5,
        ..batch.clone()
    };
    store.save_batch(&stale).await.unwrap();
    assert_eq!(
        store.push_batches(None, 10).await.unwrap(),
        vec![batch.clone()]
    );
    assert_eq!(
        store
            .push_batches(Some(fleet_store::BatchState::Paused), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .push_batches(Some(fleet_store::BatchState::Running), 10)
        .await
        .unwrap()
        .is_empty());
    let mut push = PushRecord {
        id: new_id(),
        device_id: dev.id.clone(),
        template_id: Some(tpl.id.clone()),
        started_at: T0,
        finished_at: None,
        status: fleet_store::Named::from_text("running".into()),
        summary: String::new(),
        updated_at: T0,
        batch_id: Some(batch.id.clone()),
    };
    store.save_pushes(&[push.clone()]).await.unwrap();
    push.status = fleet_store::Named::from_text("succeeded".into());
    push.finished_at = Some(T0 + 5_000);
    push.updated_at = T0 + 5_000;
    store.save_pushes(&[push.clone()]).await.unwrap();
    let stale_push = PushRecord {
        status: fleet_store::Named::from_text("running".into()),
        updated_at: T0 + 1,
        ..push.clone()
    };
    store.save_pushes(&[stale_push]).await.unwrap();
    assert_eq!(
        store.push_records(Some(&dev.id), 10).await.unwrap(),
        vec![push.clone()]
    );
    assert_eq!(store.batch_pushes(&batch.id).await.unwrap(), vec![push]);

    let stats: std::collections::HashMap<_, _> = store.stats().await.unwrap().into_iter().collect();
    assert_eq!(stats.len(), fleet_store::TABLES.len());
    assert_eq!(stats["sites"], 1);
    assert_eq!(stats["devices"], 2);
    assert_eq!(stats["device_tags"], 2);
    assert_eq!(stats["checkins"], 7);
    assert_eq!(stats["device_hourly"], 3);
    assert_eq!(stats["fleet_hourly"], 3);
    assert_eq!(stats["device_latest"], 1);
    assert_eq!(stats["audit_events"], 2);
    assert_eq!(stats["push_records"], 1);
    assert_eq!(stats["push_batches"], 1);
}

/// A batch naming a device the store does not know is refused whole.
async fn unknown_device_refuses_the_batch(store: &FleetStore) {
    let dev = store
        .add_device(&NewDevice {
            host: "10.9.9.9".into(),
            port: 8728,
            username: "admin".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let err = store
        .record_checkins(&[checkin(&dev.id, T0, 1), checkin("ghost", T0, 1)])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::NotFound(id) if id == "ghost"),
        "{err:?}"
    );
    assert_eq!(store.count_checkins(&dev.id).await.unwrap(), 0);
}

/// Large batches span several multi-row statements.
async fn ingests_large_batches(store: &FleetStore) {
    const T1: i64 = T0 + 100 * HOUR_MS;
    let mut ids = Vec::new();
    for i in 0..50 {
        ids.push(
            store
                .add_device(&NewDevice {
                    host: format!("10.1.0.{i}"),
                    port: 8728,
                    username: "admin".into(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .id,
        );
    }
    let batch: Vec<Checkin> = (0..5_000)
        .map(|i| {
            checkin(
                &ids[i % 50],
                T1 + (i / 50) as i64 * 30_000,
                (i % 100) as i64,
            )
        })
        .collect();
    let r = store.record_checkins(&batch).await.unwrap();
    assert_eq!(
        r,
        IngestReport {
            inserted: 5_000,
            duplicates: 0
        }
    );
    let r = store.record_checkins(&batch[..2_500]).await.unwrap();
    assert_eq!(
        r,
        IngestReport {
            inserted: 0,
            duplicates: 2_500
        }
    );
    let hours = store.checkins_per_hour(T1, T1 + HOUR_MS).await.unwrap();
    assert_eq!(hours.iter().map(|h| h.checkins).sum::<u64>(), 5_000);
    assert_eq!(store.count_checkins(&ids[7]).await.unwrap(), 100);
}

/// A router whose strings are longer than any real one (a 65-character
/// version, a 300-character identity) has its check-in stored, clipped
/// and marked, with the rest of its batch: the shared database's strict
/// mode would otherwise refuse the row and stall every check-in behind it.
async fn stores_an_overlong_router_string_clipped(store: &FleetStore) {
    let dev = store
        .add_device(&NewDevice {
            host: "10.88.0.1".into(),
            port: 8728,
            username: "admin".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut long = checkin(&dev.id, 9_060_000, 5);
    long.version = "7".repeat(65);
    long.identity = "é".repeat(300);
    long.serial = Some("S".repeat(80));
    let next = checkin(&dev.id, 9_000_000, 6);
    // The long one is the newest, so the latest state shows it.
    let report = store.record_checkins(&[next, long]).await.unwrap();
    assert_eq!(report.inserted, 2, "{report:?}");
    let stored = store.get_device(&dev.id).await.unwrap();
    let identity = stored.identity.unwrap();
    assert_eq!(identity.chars().count(), 255);
    assert!(identity.ends_with('…'), "{identity}");
    assert_eq!(store.count_checkins(&dev.id).await.unwrap(), 2);
}

/// A router's tags all reach the list, however the tag table interleaves
/// routers (its `tag` index does: r1's `a` and `c` sit either side of `b`).
async fn lists_every_tag_of_interleaved_routers(store: &FleetStore) {
    let tagged = |host: &str, tags: &[&str]| NewDevice {
        host: host.into(),
        port: 8728,
        username: "admin".into(),
        transport: Default::default(),
        site_id: None,
        tags: tags.iter().map(|t| t.to_string()).collect(),
    };
    let r1 = store
        .add_device(&tagged("10.77.0.1", &["a", "c"]))
        .await
        .unwrap();
    let r2 = store
        .add_device(&tagged("10.77.0.2", &["b"]))
        .await
        .unwrap();
    let r3 = store
        .add_device(&tagged("10.77.0.3", &["a", "b"]))
        .await
        .unwrap();
    let listed = store.list_devices().await.unwrap();
    let tags_of = |id: &str| {
        listed
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.tags.clone())
            .unwrap_or_else(|| panic!("router {id} missing from the list"))
    };
    assert_eq!(tags_of(&r1.id), vec!["a", "c"]);
    assert_eq!(tags_of(&r2.id), vec!["b"]);
    assert_eq!(tags_of(&r3.id), vec!["a", "b"]);
}

#[tokio::test]
async fn embedded_store_behaviour() {
    let dir = tempfile::tempdir().unwrap();
    let url = StoreUrl::Sqlite(dir.path().join("nested/fleet.db"));
    let store = FleetStore::open(&url).await.unwrap();
    assert_eq!(store.backend_name(), "sqlite");
    behaves_like_a_fleet_store(&store).await;
    unknown_device_refuses_the_batch(&store).await;
    ingests_large_batches(&store).await;
    drop(store);
    // Reopening runs no migration twice and keeps every record.
    let again = FleetStore::open(&url).await.unwrap();
    assert_eq!(again.list_devices().await.unwrap().len(), 53);
    lists_every_tag_of_interleaved_routers(&again).await;
    stores_an_overlong_router_string_clipped(&again).await;
}

#[tokio::test]
async fn mysql_backend_behaviour() {
    let (store, db) = mysql_store().await;
    assert_eq!(store.backend_name(), "mysql");
    behaves_like_a_fleet_store(&store).await;
    unknown_device_refuses_the_batch(&store).await;
    ingests_large_batches(&store).await;
    // Reopening the same database is a no-op migration.
    let again = FleetStore::open(&db_url(&db).parse().unwrap())
        .await
        .unwrap();
    assert_eq!(again.list_devices().await.unwrap().len(), 53);
    lists_every_tag_of_interleaved_routers(&again).await;
    stores_an_overlong_router_string_clipped(&again).await;
    drop_mysql_db(&db).await;
}

#[tokio::test]
async fn unreachable_database_is_a_clear_error() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let url: StoreUrl = format!("mysql://fleet:secret@127.0.0.1:{port}/fleet?tls=off")
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

/// The same synthetic fleet in both backends answers every dashboard the
/// same, ties in the top-N lists included.
#[tokio::test]
async fn both_backends_answer_dashboards_alike() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = FleetStore::open(&StoreUrl::Sqlite(dir.path().join("g.db")))
        .await
        .unwrap();
    let (mysql, db) = mysql_store().await;
    let end = T0 + 48 * HOUR_MS;
    let opts = generate::GenerateOptions {
        devices: 300,
        checkins_per_device: 40,
        interval_secs: 1800,
        end_ms: end,
        devices_per_site: 40,
        seed: 9,
    };
    for store in [&sqlite, &mysql] {
        let r = generate::generate(store, &opts, |_| {}).await.unwrap();
        assert_eq!((r.sites, r.devices, r.checkins), (8, 300, 12_000));
        // Deterministic: a second run adds nothing.
        assert_eq!(
            generate::generate(store, &opts, |_| {})
                .await
                .unwrap()
                .checkins,
            0
        );
    }
    let ids: Vec<String> = sqlite
        .device_records()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    async fn answers(s: &FleetStore, ids: &[String], end: i64) -> String {
        let th = HealthThresholds::for_interval_secs(1800);
        let mut out = format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n",
            s.fleet_summary(end + 60_000, th).await.unwrap(),
            s.version_distribution().await.unwrap(),
            s.cpu_distribution(0).await.unwrap(),
            s.top_cpu(0, 25).await.unwrap(),
            s.pressure(0, 80.0, 25).await.unwrap(),
            s.checkins_per_hour(end - 30 * HOUR_MS, end).await.unwrap(),
        );
        for id in ids.iter().step_by(37) {
            for points in [10, 1000] {
                let series = s
                    .device_series(id, end - 20 * HOUR_MS, end, points)
                    .await
                    .unwrap();
                let pts: Vec<String> = series
                    .points
                    .iter()
                    .map(|p| {
                        format!(
                            "{} {:.6} {:.6} {}",
                            p.at, p.cpu_load, p.memory_used_pct, p.checkins
                        )
                    })
                    .collect();
                out.push_str(&format!("{:?} {pts:?}\n", series.resolution));
            }
        }
        out
    }
    let a = answers(&sqlite, &ids, end).await;
    assert!(a.contains("online: 300"), "{a}");
    let b = answers(&mysql, &ids, end).await;
    if a != b {
        // Show only the lines that differ.
        // Show only the first line that differs, around the difference.
        if let Some((x, y)) = a.lines().zip(b.lines()).find(|(x, y)| x != y) {
            let at = x
                .bytes()
                .zip(y.bytes())
                .position(|(p, q)| p != q)
                .unwrap_or(0);
            let from = at.saturating_sub(150);
            panic!(
                "backends differ:\n sqlite: …{}\n mysql:  …{}",
                &x[from..(at + 150).min(x.len())],
                &y[from..(at + 150).min(y.len())]
            );
        }
        panic!("backends differ in line count");
    }
    let top = sqlite.top_cpu(0, 300).await.unwrap();
    assert!(
        top.windows(2).any(|w| w[0].value == w[1].value),
        "the fleet has ties for the test to mean something"
    );
    drop_mysql_db(&db).await;
}

/// Only the embedded store queues records for sync; asking the shared
/// database to is refused at open, not ignored on every write.
#[tokio::test]
async fn the_shared_database_refuses_an_outbox() {
    let db = create_db().await;
    let err = FleetStore::open_with(
        &db_url(&db).parse().unwrap(),
        StoreOptions {
            outbox: Some(true),
            ..Default::default()
        },
    )
    .await
    .err()
    .expect("refused");
    assert!(err.to_string().contains("keeps no outbox"), "{err}");
    drop_mysql_db(&db).await;
}

/// A database that accepts connections and never answers (a black-holed
/// path) gets a clear error within the store's bound, at open and on a
/// call, instead of a hang; what was stored before is all there after.
#[tokio::test]
async fn a_silent_database_is_an_error_within_the_bound_not_a_hang() {
    let db = create_db().await;
    let proxy = Proxy::start(3306).await;
    let url: StoreUrl = url_via(proxy.port, &db).parse().unwrap();
    let bounded = StoreOptions {
        timeout: std::time::Duration::from_secs(2),
        ..Default::default()
    };
    let store = FleetStore::open_with(&url, bounded).await.unwrap();
    let kept = store
        .add_device(&NewDevice {
            host: "10.1.1.1".into(),
            port: 8728,
            username: "admin".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    proxy.go_silent();
    let guard = std::time::Duration::from_secs(60);
    let call = tokio::time::timeout(guard, store.list_devices())
        .await
        .expect("a call to a silent database returns")
        .expect_err("and fails");
    assert!(matches!(call, StoreError::TimedOut { .. }), "{call:?}");
    assert!(
        call.to_string().contains("did not answer within 2 s"),
        "{call}"
    );
    let open = tokio::time::timeout(guard, FleetStore::open_with(&url, bounded))
        .await
        .expect("opening a silent database returns")
        .err()
        .expect("and fails");
    assert!(matches!(open, StoreError::TimedOut { .. }), "{open:?}");
    proxy.restore();
    let again = FleetStore::open(&db_url(&db).parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        again.list_devices().await.unwrap()[0].id,
        kept.id,
        "nothing acknowledged was lost"
    );
    drop_mysql_db(&db).await;
}

/// Laptops opening one empty shared database at the same moment all get a
/// working store, and each migration is recorded once.
#[tokio::test]
async fn opens_racing_on_an_empty_database_all_succeed() {
    let db = create_db().await;
    let url: StoreUrl = db_url(&db).parse().unwrap();
    let (a, b, c, d) = tokio::join!(
        FleetStore::open(&url),
        FleetStore::open(&url),
        FleetStore::open(&url),
        FleetStore::open(&url)
    );
    for store in [a, b, c, d] {
        store.unwrap().list_devices().await.unwrap();
    }
    let versions = schema_versions(&db).await;
    assert_eq!(versions, migration_versions(), "each version recorded once");
    drop_mysql_db(&db).await;
}

/// A first open cut short mid-migration (tables made, a column added, its
/// version not yet recorded) is finished by the next open.
#[tokio::test]
async fn an_interrupted_migration_is_finished_by_the_next_open() {
    let db = create_db().await;
    let sections = migration_sections();
    let pool = mysql_async::Pool::new(raw_db_url(&db).as_str());
    let mut conn = pool.get_conn().await.unwrap();
    use mysql_async::prelude::Queryable;
    conn.query_drop("CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .await
        .unwrap();
    // All of migration 1 and its record; then the first statement of the
    // next migration, and the process dies.
    for s in &sections[0].1 {
        conn.query_drop(s.as_str()).await.unwrap();
    }
    conn.query_drop(format!(
        "INSERT INTO schema_migrations VALUES ({}, 0)",
        sections[0].0
    ))
    .await
    .unwrap();
    assert!(sections.len() > 1, "the test needs a second migration");
    conn.query_drop(sections[1].1[0].as_str()).await.unwrap();
    drop(conn);
    pool.disconnect().await.unwrap();

    let store = FleetStore::open(&db_url(&db).parse().unwrap())
        .await
        .unwrap();
    store.list_devices().await.unwrap();
    assert_eq!(schema_versions(&db).await, migration_versions());
    drop_mysql_db(&db).await;
}

/// The MySQL migrations as (version, statements), from the schema's DDL.
fn migration_sections() -> Vec<(i64, Vec<String>)> {
    ddl(Dialect::Mysql)
        .split("-- migration ")
        .filter(|s| !s.trim().is_empty())
        .map(|section| {
            let (version, body) = section.split_once('\n').unwrap();
            let statements = body
                .split(";\n\n")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            (version.trim().parse().unwrap(), statements)
        })
        .collect()
}

fn migration_versions() -> Vec<i64> {
    migration_sections().into_iter().map(|(v, _)| v).collect()
}

async fn schema_versions(db: &str) -> Vec<i64> {
    use mysql_async::prelude::Queryable;
    let pool = mysql_async::Pool::new(raw_db_url(db).as_str());
    let mut conn = pool.get_conn().await.unwrap();
    let v: Vec<i64> = conn
        .query("SELECT version FROM schema_migrations ORDER BY version")
        .await
        .unwrap();
    drop(conn);
    pool.disconnect().await.unwrap();
    v
}

/// A damaged embedded store (a file that is not a database) and one
/// written by a newer Fleetdeck both open with an error that says what is
/// wrong and the way out, and the file is left as it was.
#[tokio::test]
async fn a_damaged_or_newer_embedded_store_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet.db");
    let garbage = b"this is not an SQLite database, it is what a bad disk left".repeat(80);
    std::fs::write(&path, &garbage).unwrap();
    let err = FleetStore::open(&StoreUrl::Sqlite(path.clone()))
        .await
        .err()
        .expect("a damaged store does not open");
    assert!(matches!(err, StoreError::Damaged { .. }), "{err:?}");
    assert!(err.to_string().contains("move it aside"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage, "left as it was");

    let newer = dir.path().join("newer.db");
    drop(
        FleetStore::open(&StoreUrl::Sqlite(newer.clone()))
            .await
            .unwrap(),
    );
    {
        let c = rusqlite::Connection::open(&newer).unwrap();
        c.execute("INSERT INTO schema_migrations VALUES (9999, 0)", [])
            .unwrap();
    }
    let err = FleetStore::open(&StoreUrl::Sqlite(newer))
        .await
        .err()
        .expect("a newer schema does not open");
    assert!(
        matches!(err, StoreError::SchemaTooNew { found: 9999, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("update Fleetdeck"), "{err}");
}
