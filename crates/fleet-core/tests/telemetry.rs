//! The telemetry engine against simulated routers over real TCP, with the
//! simulator's faults (wrong passwords, stalls, dropped sessions, reboots),
//! into a real SQLite file and, through a proxy that cuts it mid-run, the
//! real MariaDB.

#[path = "../../fleet-store/tests/common/mod.rs"]
mod common;

use std::time::Duration;

use fleet_core::{
    credentials::{CredentialStore, Sensitive},
    targets::TargetSpec,
    telemetry::{Health, Retargeted, Target, Telemetry, TelemetryConfig},
    Fleet, FleetStore, StoreUrl,
};
use routeros_sim::{
    wait::{until, DEADLINE},
    Faults, SimConfig, SimFleet,
};

const PASSWORD: &str = "fieldpass";

async fn sim(devices: usize) -> SimFleet {
    SimFleet::start(SimConfig {
        devices,
        password: PASSWORD.into(),
        reboot_delay: Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

async fn fleet_on(url: StoreUrl, dir: &tempfile::TempDir) -> Fleet {
    let store = FleetStore::open(&url).await.unwrap();
    let mut fleet = Fleet::new(
        store,
        CredentialStore::file(dir.path().join("credentials.json")),
    );
    fleet.poll_timeout = Duration::from_millis(800);
    fleet
}

async fn targets(fleet: &Fleet, sim: &SimFleet, interval: Duration) -> Vec<Target> {
    // One `host:port` a line, as a targets file holds them.
    let file: String = sim
        .ports()
        .iter()
        .map(|p| format!("127.0.0.1:{p}\n"))
        .collect();
    let specs: Vec<TargetSpec> = fleet_core::targets::parse_text(&file).unwrap();
    fleet
        .enroll(
            &specs,
            "admin",
            Some(&Sensitive::new(PASSWORD.to_string())),
            interval,
        )
        .await
        .unwrap()
}

/// Quick reconnects so a test sees several polls a second; no spool
/// (what the shared database does not take waits in memory).
fn fast() -> TelemetryConfig {
    TelemetryConfig {
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        flush_every: Duration::from_millis(100),
        spool_dir: None,
        ..TelemetryConfig::default()
    }
}

fn actions(events: &[fleet_store::AuditEvent]) -> Vec<String> {
    // Newest first from the store: oldest first here.
    events.iter().rev().map(|e| e.action.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_counts_every_poll_and_lands_every_check_in() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = fleet_on(StoreUrl::Sqlite(dir.path().join("f.db")), &dir).await;
    let sim = sim(20).await;
    // Two routers refuse the login, one never answers its resource query.
    for i in [3, 7] {
        sim.device(i).set_faults(Faults {
            reject_login: true,
            ..Faults::default()
        });
    }
    sim.device(11).set_faults(Faults {
        stall: vec!["/system/resource/print".into()],
        ..Faults::default()
    });
    // A slow router (every reply sentence 20 ms late) is polled, slowly.
    sim.device(15).set_faults(Faults {
        latency: Duration::from_millis(20),
        ..Faults::default()
    });
    let targets = targets(&fleet, &sim, Duration::from_secs(30)).await;
    let ids: Vec<String> = targets.iter().map(|t| t.device_id.clone()).collect();
    let mut cfg = fast();
    // Alerts that every healthy simulated router trips once.
    cfg.alerts.memory_low_free_pct = 100.0;
    cfg.alerts.target_version = Some("99.0".into());
    let report = Telemetry::sweep(fleet.shared_store(), targets, cfg).await;
    let c = report.counters;
    assert_eq!(report.routers, 20);
    assert_eq!((c.polls, c.polls_ok, c.polls_failed), (20, 17, 3));
    assert_eq!(c.rows_written, 17, "every successful poll is stored");
    assert_eq!(c.rows_pending, 0);
    assert_eq!(
        c.connects, 18,
        "the stalled router logged in; the refused ones did not"
    );

    let store = fleet.store();
    let refused = store.get_device(&ids[3]).await.unwrap();
    assert!(
        refused
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("refused the login"),
        "{refused:?}"
    );
    let stalled = store.get_device(&ids[11]).await.unwrap();
    assert!(stalled.last_error.is_some() && stalled.last_checkin_at.is_none());
    let ok = store.get_device(&ids[0]).await.unwrap();
    assert!(ok.last_checkin_at.is_some() && ok.identity.is_some());
    let slow = store.get_device(&ids[15]).await.unwrap();
    assert!(
        slow.last_checkin_at.is_some() && slow.last_error.is_none(),
        "{slow:?}"
    );
    let events = store.audit_events(Some(&ids[0]), 0, 10).await.unwrap();
    let mut acts = actions(&events);
    acts.sort();
    assert_eq!(acts, vec!["alert.firmware-behind", "alert.memory-low"]);
    let events = store.audit_events(Some(&ids[3]), 0, 10).await.unwrap();
    assert_eq!(actions(&events), vec!["health.degraded"]);
    assert_eq!(c.events, 17 * 2 + 3);
}

/// A running engine takes a new list of routers without a reconnect wave:
/// an added router starts (one connect more), the others keep their
/// sessions; a removed router stops being polled; a changed password
/// restarts that router alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retarget_starts_stops_and_restarts_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = fleet_on(StoreUrl::Sqlite(dir.path().join("f.db")), &dir).await;
    let sim = sim(4).await;
    let all = targets(&fleet, &sim, Duration::from_millis(200)).await;
    let ids: Vec<String> = all.iter().map(|t| t.device_id.clone()).collect();
    let mut telemetry = Telemetry::start(fleet.shared_store(), all[..3].to_vec(), fast());
    let t = &telemetry;
    until("three routers online", DEADLINE, move || async move {
        let h = t.health();
        h.len() == 3 && h.values().all(|h| *h == Health::Online)
    })
    .await;
    assert_eq!(telemetry.counters().connects, 3);

    let added = telemetry.retarget(all.clone());
    assert_eq!(
        added,
        Retargeted {
            added: 1,
            kept: 3,
            ..Retargeted::default()
        }
    );
    let t = &telemetry;
    until("the added router online", DEADLINE, move || async move {
        let h = t.health();
        h.len() == 4 && h.values().all(|h| *h == Health::Online)
    })
    .await;
    assert_eq!(
        telemetry.counters().connects,
        4,
        "only the new router connected"
    );

    // Router 0 leaves the inventory; router 1's password changes (to a wrong one).
    let mut next = all[1..].to_vec();
    next[0].connect.password = "not-the-password".into();
    let changed = telemetry.retarget(next);
    assert_eq!(
        changed,
        Retargeted {
            removed: 1,
            changed: 1,
            kept: 2,
            ..Retargeted::default()
        }
    );
    assert_eq!(telemetry.routers(), 3);
    // A removed router's poll already in flight still stores its check-in:
    // count from when its poller has ended.
    let t = &telemetry;
    until(
        "the removed router's poller ended",
        DEADLINE,
        move || async move { t.retiring() == 0 },
    )
    .await;
    telemetry.flush().await;
    let store = fleet.store();
    let polled_0 = store.checkins_of(&ids[0], 0, i64::MAX).await.unwrap().len();
    let polled_3 = store.checkins_of(&ids[3], 0, i64::MAX).await.unwrap().len();
    // Router 3 polled three more times, and router 1 failing on its new
    // password: long enough for a removed router to have shown up again.
    let (t, id1, id3) = (&telemetry, &ids[1], &ids[3]);
    until(
        "router 3 polled again and router 1 refused",
        DEADLINE,
        move || async move {
            t.flush().await;
            let more = store.checkins_of(id3, 0, i64::MAX).await.unwrap().len() >= polled_3 + 3;
            more && t.health().get(id1).is_some_and(|h| *h != Health::Online)
        },
    )
    .await;
    assert_eq!(
        store.checkins_of(&ids[0], 0, i64::MAX).await.unwrap().len(),
        polled_0,
        "a removed router is no longer polled"
    );
    assert!(store.checkins_of(&ids[3], 0, i64::MAX).await.unwrap().len() > polled_3);
    let health = telemetry.health();
    assert!(!health.contains_key(&ids[0]), "{health:?}");
    assert_ne!(
        health[&ids[1]],
        Health::Online,
        "the new, wrong password is in use"
    );
    assert_eq!(health[&ids[2]], Health::Online);
    let c = telemetry.stop().await;
    assert_eq!(c.rows_pending, 0);
    assert!(c.polls_failed > 0, "{c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_follows_missed_polls_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = fleet_on(StoreUrl::Sqlite(dir.path().join("f.db")), &dir).await;
    let sim = sim(6).await;
    let interval = Duration::from_millis(200);
    let targets = targets(&fleet, &sim, interval).await;
    let ids: Vec<String> = targets.iter().map(|t| t.device_id.clone()).collect();
    let telemetry = Telemetry::start(fleet.shared_store(), targets, fast());
    let t = &telemetry;
    until("all six routers online", DEADLINE, move || async move {
        let h = t.health();
        h.len() == 6 && h.values().all(|h| *h == Health::Online)
    })
    .await;

    // Router 0 drops every session at once; router 1 stalls; router 2 reboots.
    sim.device(0).set_faults(Faults {
        drop_after: Some(0),
        ..Faults::default()
    });
    sim.device(1).set_faults(Faults {
        stall: vec!["/system/resource/print".into()],
        ..Faults::default()
    });
    sim.device(2).reboot();
    // A stalled poll takes the 0.8 s command deadline to fail: three
    // misses take about 2.5 s.
    let (id0, id1) = (&ids[0], &ids[1]);
    until("routers 0 and 1 offline", DEADLINE, move || async move {
        let h = t.health();
        h[id0] == Health::Offline && h[id1] == Health::Offline
    })
    .await;
    assert_eq!(telemetry.health()[&ids[3]], Health::Online);

    // Back to normal: they come back online.
    sim.device(0).set_faults(Faults::default());
    sim.device(1).set_faults(Faults::default());
    // Back online, and the rebooted router seen back with its reboot
    // alerted and five check-ins stored.
    let (store, id2) = (fleet.store(), &ids[2]);
    until(
        "routers 0, 1 and 2 back online",
        DEADLINE,
        move || async move {
            t.flush().await;
            let h = t.health();
            let back = [id0, id1, id2].iter().all(|id| h[*id] == Health::Online);
            let alerted = actions(&store.audit_events(Some(id2), 0, 50).await.unwrap())
                .contains(&"alert.rebooted".to_string());
            back && alerted && store.checkins_of(id2, 0, i64::MAX).await.unwrap().len() >= 5
        },
    )
    .await;
    let c = telemetry.stop().await;
    assert!(c.polls_failed > 0 && c.connects > 6, "{c:?}");
    assert_eq!(c.rows_pending, 0);
    assert_eq!(
        c.rows_written + c.rows_already_stored,
        c.polls_ok,
        "every successful poll became exactly one stored check-in"
    );
    let store = fleet.store();
    let total: u64 = common::rows(store, "checkins").await;
    assert_eq!(total, c.rows_written);

    for i in [0, 1] {
        let acts = actions(&store.audit_events(Some(&ids[i]), 0, 50).await.unwrap());
        let pos = |a: &str| {
            acts.iter()
                .position(|x| x == a)
                .unwrap_or_else(|| panic!("{a} in {acts:?}"))
        };
        assert!(pos("health.degraded") < pos("health.offline"), "{acts:?}");
        assert!(pos("health.offline") < pos("health.online"), "{acts:?}");
    }
    // The reboot is an alert; the counters that went back to zero are not
    // negative traffic.
    let acts = actions(&store.audit_events(Some(&ids[2]), 0, 50).await.unwrap());
    assert!(acts.contains(&"alert.rebooted".to_string()), "{acts:?}");
    let series = store.checkins_of(&ids[2], 0, i64::MAX).await.unwrap();
    assert!(series.len() >= 5);
    assert!(series.iter().all(|k| k.rx_bps >= 0 && k.tx_bps >= 0));
    assert!(
        series.iter().any(|k| k.rx_bps > 0),
        "rates from counter deltas"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_lost_mid_run_loses_no_check_in() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::create_db().await;
    let proxy = common::proxy::Proxy::start(3306).await;
    let url: StoreUrl = common::url_via(proxy.port, &db).parse().unwrap();
    let fleet = fleet_on(url, &dir).await;
    let sim = sim(30).await;
    let targets = targets(&fleet, &sim, Duration::from_millis(200)).await;
    let telemetry = Telemetry::start(fleet.shared_store(), targets, fast());
    let t = &telemetry;
    until("check-ins written", DEADLINE, move || async move {
        t.counters().rows_written > 0
    })
    .await;
    // The database goes away for a while, then comes back.
    proxy.cut_now();
    until(
        "check-ins waiting while the database is gone",
        DEADLINE,
        move || async move {
            let c = t.counters();
            c.rows_pending > 0 && c.write_failures > 0
        },
    )
    .await;
    proxy.restore();
    let written = telemetry.counters().rows_written;
    until("writes resumed", DEADLINE, move || async move {
        t.counters().rows_written > written
    })
    .await;
    let c = telemetry.stop().await;
    assert!(c.write_failures > 0, "{c:?}");
    assert_eq!(c.rows_pending, 0);
    assert_eq!(c.rows_written + c.rows_already_stored, c.polls_ok);
    // Count behind the proxy's back.
    let direct = FleetStore::open(&common::db_url(&db).parse().unwrap())
        .await
        .unwrap();
    let stored: u64 = common::rows(&direct, "checkins").await;
    assert_eq!(stored, c.polls_ok, "no check-in lost, none stored twice");
    drop(direct);
    drop(fleet);
    drop(proxy);
    common::drop_mysql_db(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_ssl_certificates_are_pinned_on_first_use_and_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = fleet_on(StoreUrl::Sqlite(dir.path().join("f.db")), &dir).await;
    let sim = SimFleet::start(SimConfig {
        devices: 2,
        password: PASSWORD.into(),
        tls: true,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let csv: String = std::iter::once("host,port,transport\n".to_string())
        .chain((0..2).map(|i| format!("127.0.0.1,{},api-ssl\n", sim.tls_port(i).unwrap())))
        .collect();
    let specs = fleet_core::targets::parse_text(&csv).unwrap();
    let password = Sensitive::new(PASSWORD.to_string());
    let enroll = || fleet.enroll(&specs, "admin", Some(&password), Duration::from_secs(30));

    let first = enroll().await.unwrap();
    assert!(first
        .iter()
        .all(|t| t.connect.tls == routeros::TlsMode::TrustOnFirstUse));
    let report = Telemetry::sweep(fleet.shared_store(), first, fast()).await;
    let why = fleet.store().list_devices().await.unwrap()[0]
        .last_error
        .clone();
    assert_eq!(report.counters.polls_ok, 2, "{report:?} {why:?}");
    let records = fleet.store().device_records().await.unwrap();
    for (i, r) in records.iter().enumerate() {
        let pinned: routeros::Fingerprint = r.tls_fingerprint.as_deref().unwrap().parse().unwrap();
        assert_eq!(pinned, routeros::Fingerprint(sim.fingerprint(i).unwrap()));
        let acts = actions(
            &fleet
                .store()
                .audit_events(Some(&r.id), 0, 10)
                .await
                .unwrap(),
        );
        assert_eq!(acts, vec!["tls.pinned"]);
    }
    // From now on only that certificate is accepted.
    let targets = enroll().await.unwrap();
    assert!(targets
        .iter()
        .all(|t| matches!(t.connect.tls, routeros::TlsMode::Pinned(_))));
    let report = Telemetry::sweep(fleet.shared_store(), targets, fast()).await;
    assert_eq!(report.counters.polls_ok, 2);
    // A router presenting another certificate is refused, not polled.
    let mut wrong = records[0].clone();
    wrong.tls_fingerprint = Some(routeros::Fingerprint([7; 32]).to_string());
    wrong.updated_at += 1;
    fleet.store().save_devices(&[wrong.clone()]).await.unwrap();
    let report = Telemetry::sweep(fleet.shared_store(), enroll().await.unwrap(), fast()).await;
    assert_eq!(
        (report.counters.polls_ok, report.counters.polls_failed),
        (1, 1)
    );
    let refused = fleet.store().get_device(&wrong.id).await.unwrap();
    assert!(
        refused
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("secure connection"),
        "{refused:?}"
    );
}

/// Quick reconnects, writes to the shared database given up after half a
/// second, and the spool and quarantine in the test's own folder.
fn spooling(dir: &tempfile::TempDir) -> TelemetryConfig {
    TelemetryConfig {
        write_within: Duration::from_millis(500),
        spool_dir: Some(dir.path().join("data")),
        ..fast()
    }
}

/// While the shared database refuses connections, check-ins are kept on
/// disk and polling goes on (no poller waits on a full channel); when it
/// is back, the spool is delivered: every check-in polled is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_ins_while_the_database_is_down_are_kept_on_disk_and_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::create_db().await;
    let proxy = common::proxy::Proxy::start(3306).await;
    let url: StoreUrl = common::url_via(proxy.port, &db).parse().unwrap();
    let fleet = fleet_on(url, &dir).await;
    let sim = sim(10).await;
    let targets = targets(&fleet, &sim, Duration::from_millis(200)).await;
    let telemetry = Telemetry::start(fleet.shared_store(), targets, spooling(&dir));
    let t = &telemetry;
    until("check-ins written", DEADLINE, move || async move {
        t.counters().rows_written > 0
    })
    .await;
    proxy.cut_now();
    until("check-ins kept on disk", DEADLINE, move || async move {
        t.counters().rows_spooled >= 20
    })
    .await;
    // Polling goes on while the database is gone: the pollers are not
    // held back by a writer waiting for it.
    let polled = telemetry.counters().polls_ok;
    until("polling goes on", DEADLINE, move || async move {
        let c = t.counters();
        c.polls_ok >= polled + 30 && c.rows_spooled > 0
    })
    .await;
    let down = telemetry.counters();
    assert!(down.write_failures > 0, "{down:?}");
    assert!(
        down.rows_pending <= 10 * 2,
        "only the last moments' check-ins are in memory: {down:?}"
    );
    proxy.restore();
    until("the spool delivered", DEADLINE, move || async move {
        t.counters().rows_spooled == 0
    })
    .await;
    let c = telemetry.stop().await;
    assert_eq!((c.rows_pending, c.rows_spooled), (0, 0), "{c:?}");
    assert_eq!(c.rows_written + c.rows_already_stored, c.polls_ok, "{c:?}");
    let direct = FleetStore::open(&common::db_url(&db).parse().unwrap())
        .await
        .unwrap();
    let stored: u64 = common::rows(&direct, "checkins").await;
    assert_eq!(stored, c.polls_ok, "no check-in lost, none stored twice");
    drop(direct);
    drop(fleet);
    common::drop_mysql_db(&db).await;
}

/// Stopping polling returns within its bound while the shared database
/// accepts connections and never answers (the app stops polling holding
/// its polling lock, so a hang here would freeze it), and loses nothing:
/// what the database did not take is on disk, and the next start
/// delivers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_while_the_database_is_silent_returns_in_time_and_the_next_start_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::create_db().await;
    let proxy = common::proxy::Proxy::start(3306).await;
    let url: StoreUrl = common::url_via(proxy.port, &db).parse().unwrap();
    let fleet = fleet_on(url.clone(), &dir).await;
    let sim = sim(10).await;
    let targets = targets(&fleet, &sim, Duration::from_millis(200)).await;
    let cfg = TelemetryConfig {
        stop_within: Duration::from_secs(5),
        ..spooling(&dir)
    };
    let telemetry = Telemetry::start(fleet.shared_store(), targets, cfg.clone());
    let t = &telemetry;
    until("check-ins written", DEADLINE, move || async move {
        t.counters().rows_written > 0
    })
    .await;
    proxy.go_silent();
    until(
        "check-ins kept on disk for the silent database",
        DEADLINE,
        move || async move { t.counters().rows_spooled > 0 },
    )
    .await;
    let stopped = tokio::time::timeout(DEADLINE, telemetry.stop())
        .await
        .expect("stop returns while the database is silent");
    assert_eq!(stopped.rows_pending, 0, "nothing given up: {stopped:?}");
    assert_eq!(
        stopped.rows_written + stopped.rows_spooled,
        stopped.polls_ok,
        "{stopped:?}"
    );
    drop(fleet);
    // The next run, the database back: what the last one kept is stored.
    proxy.restore();
    let store = std::sync::Arc::new(FleetStore::open(&url).await.unwrap());
    let next = Telemetry::start(store.clone(), Vec::new(), cfg);
    let n = &next;
    until(
        "the last run's spool delivered",
        DEADLINE,
        move || async move { n.counters().rows_spooled == 0 },
    )
    .await;
    next.stop().await;
    let stored: u64 = common::rows(&store, "checkins").await;
    assert_eq!(stored, stopped.polls_ok, "no check-in lost, none twice");
    drop(store);
    common::drop_mysql_db(&db).await;
}

/// A router reporting a value its column cannot hold (a `cpu-count` of a
/// trillion): strict `sql_mode` refuses the row. It is put aside in the
/// quarantine file with the database's words, the router's last error
/// says so, and the rest of the fleet's check-ins are stored, never
/// stalled behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_check_in_is_quarantined_and_the_rest_flow() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::create_db().await;
    let fleet = fleet_on(common::db_url(&db).parse().unwrap(), &dir).await;
    let sim = sim(4).await;
    sim.device(1).set_faults(Faults {
        resource: vec![("cpu-count".into(), "1000000000000".into())],
        ..Faults::default()
    });
    let targets = targets(&fleet, &sim, Duration::from_secs(30)).await;
    let hostile = targets
        .iter()
        .find(|t| t.connect.port == sim.ports()[1])
        .unwrap()
        .device_id
        .clone();
    for round in 1..=2u64 {
        let report = Telemetry::sweep(fleet.shared_store(), targets.clone(), spooling(&dir)).await;
        let c = report.counters;
        assert_eq!(c.polls_ok, 4, "{c:?}");
        assert_eq!((c.rows_written, c.rows_quarantined), (3, 1), "{c:?}");
        assert_eq!((c.rows_pending, c.rows_spooled), (0, 0), "{c:?}");
        let kept = std::fs::read_to_string(dir.path().join("data/quarantine.jsonl")).unwrap();
        let lines: Vec<serde_json::Value> = kept
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len() as u64, round, "{kept}");
        let last = &lines[lines.len() - 1];
        assert_eq!(last["record"]["deviceId"], hostile.as_str(), "{last}");
        assert_eq!(last["record"]["cpuCount"], 1_000_000_000_000i64, "{last}");
        assert!(
            last["error"].as_str().unwrap().contains("Out of range"),
            "the database's words: {last}"
        );
    }
    let stored: u64 = common::rows(fleet.store(), "checkins").await;
    assert_eq!(stored, 6, "the other routers' check-ins, both rounds");
    let device = fleet.store().get_device(&hostile).await.unwrap();
    let why = device.last_error.unwrap_or_default();
    assert!(
        why.contains("refused this router's check-in") && why.contains("quarantine.jsonl"),
        "{why}"
    );
    drop(fleet);
    common::drop_mysql_db(&db).await;
}

/// Routers removed from polling while their pollers wait to hand over a
/// check-in (the writer is behind: a slow database, a one-slot channel):
/// the pollers are told to stop, not cut off, so every check-in polled is
/// stored; none is dropped with an aborted task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_routers_mid_hand_over_loses_no_check_in() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::create_db().await;
    let proxy = common::proxy::Proxy::start(3306).await;
    let url: StoreUrl = common::url_via(proxy.port, &db).parse().unwrap();
    let fleet = fleet_on(url, &dir).await;
    let sim = sim(10).await;
    let targets = targets(&fleet, &sim, Duration::from_millis(100)).await;
    let cfg = TelemetryConfig {
        channel_capacity: 1,
        batch_rows: 1,
        // What a loaded machine needs to hand everything over.
        stop_within: Duration::from_secs(120),
        ..fast()
    };
    proxy.slow(Duration::from_millis(15));
    let mut telemetry = Telemetry::start(fleet.shared_store(), targets, cfg);
    let t = &telemetry;
    until(
        "pollers waiting to hand over their check-ins",
        DEADLINE,
        move || async move {
            let c = t.counters();
            c.rows_written > 0 && c.polls_ok >= c.rows_written + c.rows_already_stored + 3
        },
    )
    .await;
    let changes = telemetry.retarget(Vec::new());
    assert_eq!(changes.removed, 10);
    let c = telemetry.stop().await;
    proxy.restore();
    assert_eq!(c.rows_pending, 0, "{c:?}");
    assert_eq!(c.rows_written + c.rows_already_stored, c.polls_ok, "{c:?}");
    drop(fleet);
    common::drop_mysql_db(&db).await;
}
