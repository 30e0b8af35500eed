//! `kill -9` of a CLI bulk push, and of continuous polling, at seeded
//! points. The push: against simulated routers that answer slowly enough
//! that the kills land at every stage: before the batch exists,
//! mid-backup, mid-step, mid-confirm, after the end.
//! After each kill the technician resumes (or pushes again when nothing
//! was recorded), and then every router must be on the new configuration
//! with no safety net left armed, the batch finished and no push record
//! left running. The kills are spread over the time one push takes left
//! alone (counted by the simulated routers), in the same run. Polling: see
//! [`polling_killed_at_seeded_points`].

use std::{
    process::{Command, Output, Stdio},
    time::Duration,
};

use routeros::{Client, ConnectOptions};
use routeros_sim::{Faults, SimConfig, SimFleet};

mod common;

/// Kill points per run.
const KILLS: u64 = 20;
const ROUTERS: usize = 6;

fn cli(args: &[String], data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fleetdeck-cli"));
    c.args(args)
        .env("RPW", "pw")
        .env("FLEETDECK_DATA_DIR", data)
        .env("FLEETDECK_CREDENTIALS", "file")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// `push` to every router in one wave, three at once, never stopping for
/// a failure, then `extra`.
fn push_args(
    tpl: &std::path::Path,
    values: &std::path::Path,
    targets: &str,
    url: &str,
    extra: &[&str],
) -> Vec<String> {
    let mut wave = vec!["--concurrency", "3", "--waves", "100%", "--stop-after", "0"];
    wave.extend_from_slice(extra);
    common::push_args(tpl, values, targets, url, &wave)
}

async fn run(args: Vec<String>, data: std::path::PathBuf) -> Output {
    tokio::task::spawn_blocking(move || cli(&args, &data).output().unwrap())
        .await
        .unwrap()
}

/// A seeded point into a push that sends `whole` commands to the routers
/// when left alone: the same seed kills after the same share of them on
/// every run, whatever the machine's speed that day.
fn kill_after(seed: u64, whole: u64) -> u64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 32;
    whole * (x % 1_000) / 1_000
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_push_killed_at_seeded_points_always_ends_whole() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/fleet.db", dir.path().display());
    push_killed_at_seeded_points(&url, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_push_into_mariadb_killed_at_seeded_points_always_ends_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (url, db) = mariadb("push");
    push_killed_at_seeded_points(&url, dir.path()).await;
    drop_mariadb(&db);
}

/// A fresh MariaDB database for one test, reached as the shared database
/// is by default (verified TLS, the test CA): its URL and name.
fn mariadb(what: &str) -> (String, String) {
    let db = format!("fleetdeck_kill_{what}_{}", std::process::id());
    let made = Command::new("mysql")
        .args(["-h127.0.0.1", "-uroot", "-e"])
        .arg(format!(
            "DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db}"
        ))
        .output()
        .expect("mysql client (scripts/test.sh installs it)");
    assert!(made.status.success());
    let ca = std::env::var("FLEETDECK_TEST_MYSQL_CA")
        .unwrap_or_else(|_| "/etc/mysql/fleetdeck-test-tls/ca.pem".into());
    (format!("mysql://root@127.0.0.1:3306/{db}?ca={ca}"), db)
}

fn drop_mariadb(db: &str) {
    Command::new("mysql")
        .args(["-h127.0.0.1", "-uroot", "-e"])
        .arg(format!("DROP DATABASE IF EXISTS {db}"))
        .output()
        .unwrap();
}

async fn push_killed_at_seeded_points(url: &str, data: &std::path::Path) {
    let url = url.to_owned();
    let data = data.to_path_buf();
    let sim = SimFleet::start(SimConfig {
        devices: ROUTERS,
        password: "pw".into(),
        reboot_delay: Duration::from_millis(300),
        faults: Faults {
            latency: Duration::from_millis(10),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let tpl = data.join("t.rsc");
    std::fs::write(
        &tpl,
        "/system identity set name={{ id: name }}\n/interface bridge add name=lan comment={{ id }}\n/ip address add address=192.168.77.1/24 interface=lan\n",
    )
    .unwrap();
    let targets = sim
        .ports()
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut outcomes = Vec::new();
    let mut last_batch: Option<String> = None;
    // How long one push takes left alone, the first one enrolling the
    // routers: the kills are spread over that.
    let counters: Vec<_> = (0..ROUTERS).map(|i| sim.device(i).commands()).collect();
    let sent = || counters.iter().map(|c| *c.borrow()).sum::<u64>();
    let mut whole = 0;
    for base in 0..2 {
        let values = data.join("base.json");
        std::fs::write(&values, format!(r#"{{"id": "base-{base}"}}"#)).unwrap();
        let args = push_args(&tpl, &values, &targets, &url, &[]);
        let before = sent();
        let out = run(args, data.clone()).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        whole = sent() - before;
        last_batch = String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .and_then(|l| l["batch"].as_str().map(str::to_owned));
    }
    eprintln!("one push left alone: {whole} commands to the routers");
    for seed in 0..KILLS {
        let id = format!("edge-{seed}");
        let values = data.join(format!("v{seed}.json"));
        std::fs::write(&values, format!(r#"{{"id": "{id}"}}"#)).unwrap();
        let push = |extra: &[&str]| push_args(&tpl, &values, &targets, &url, extra);
        // The kill: a seeded moment into the push.
        let mut child = cli(&push(&[]), &data).spawn().unwrap();
        // The kill lands once the routers have had that many of its
        // commands (or the push ended first).
        let wait = kill_after(seed, whole);
        let from = sent();
        routeros_sim::wait::until_some("the kill point", routeros_sim::wait::DEADLINE, || {
            let reached = sent() >= from + wait || child.try_wait().unwrap().is_some();
            async move { reached.then_some(()) }
        })
        .await;
        let finished_first = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        let _ = child.wait();

        // What the store says about the push, if it got that far.
        let listed = run(
            ["pushes", "--store", &url, "--json"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            data.clone(),
        )
        .await;
        let newest = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .next()
            .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok());
        let batch = newest
            .as_ref()
            .and_then(|b| b["id"].as_str().map(str::to_owned))
            .filter(|b| last_batch.as_deref() != Some(b));
        let status = newest
            .as_ref()
            .map(|b| b["status"].as_str().unwrap_or("").to_owned())
            .unwrap_or_default();
        // Resumed (or pushed anew when no batch was recorded) until it
        // finishes; a router left to a net that cannot be settled would
        // show here as a resume that never finishes.
        let mut tries = 0;
        let mut current = batch.clone();
        loop {
            if current.is_some() && status == "finished" && tries == 0 {
                break;
            }
            tries += 1;
            let out = match &current {
                Some(b) => run(push(&["--resume", b]), data.clone()).await,
                None => run(push(&[]), data.clone()).await,
            };
            let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            if current.is_none() {
                current = lines
                    .last()
                    .and_then(|l| l["batch"].as_str().map(str::to_owned));
            }
            if out.status.success() {
                break;
            }
            assert!(
                tries < 4,
                "seed {seed} (killed after {wait} commands): the batch did not finish after {tries} resumes: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        last_batch = current.clone();
        // The store agrees: the batch finished, no record is left running.
        {
            let store = fleet_store::FleetStore::open(&url.parse().unwrap())
                .await
                .unwrap();
            let b = current.as_deref().expect("a batch was recorded");
            let batch = store
                .push_batches(None, 5)
                .await
                .unwrap()
                .into_iter()
                .find(|x| x.id == b)
                .unwrap();
            assert_eq!(batch.status, "finished", "seed {seed}: {}", batch.summary);
            let running: Vec<_> = store
                .batch_pushes(b)
                .await
                .unwrap()
                .into_iter()
                .filter(|p| p.status == "running")
                .collect();
            assert!(
                running.is_empty(),
                "seed {seed}: records left running: {running:?}"
            );
        }

        // Whole: every router holds the new identity, no net is armed.
        for port in sim.ports() {
            let mut o = ConnectOptions::new("127.0.0.1", port, "admin", "pw");
            o.command_timeout = Duration::from_secs(10);
            let c = routeros_sim::wait::until_some(
                "the router to answer",
                routeros_sim::wait::DEADLINE,
                || {
                    let o = o.clone();
                    async move { Client::connect(&o).await.ok() }
                },
            )
            .await;
            let name = c
                .run(&routeros::Command::new("/system/identity/print"))
                .await
                .unwrap()
                .rows[0]
                .get("name")
                .unwrap()
                .into_owned();
            assert_eq!(
                name, id,
                "seed {seed} (killed after {wait} commands), router {port}"
            );
            let nets = fleet_core::push::pending_safety_nets(&c).await.unwrap();
            assert!(
                nets.is_empty(),
                "seed {seed}: nets left armed on {port}: {nets:?}"
            );
        }
        outcomes.push(format!(
            "{seed}:{}cmds:{}:{}resumes",
            wait,
            if finished_first {
                "ended-before-kill"
            } else {
                status.as_str()
            },
            tries
        ));
    }
    eprintln!("kill points: {}", outcomes.join(" "));
}

/// Routers polled in the polling kill tests.
const POLLED: usize = 5;

/// `kill -9` of continuous polling (`fleetdeck-cli poll`, every second) at
/// seeded points, spread over three sweeps' worth of the commands one
/// sweep sends (counted by the simulator in the same run), each kill
/// followed by a restart; then a clean run stopped with SIGTERM. After
/// it: every router enrolled once, no check-in stored twice or made up,
/// and the check-ins lost (polled by a router, not stored) at most those
/// of the interval in flight at each kill. Returns (polled, stored).
async fn polling_killed_at_seeded_points(url: &str, data: &std::path::Path) -> (u64, u64) {
    let sim = SimFleet::start(SimConfig {
        devices: POLLED,
        password: "pw".into(),
        faults: Faults {
            latency: Duration::from_millis(5),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let file = data.join("targets.txt");
    let list: String = sim
        .ports()
        .iter()
        .map(|p| format!("127.0.0.1:{p}\n"))
        .collect();
    std::fs::write(&file, list).unwrap();
    let poll = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "poll",
            "--targets",
            file.to_str().unwrap(),
            "--user",
            "admin",
            "--password-env",
            "RPW",
            "--store",
            url,
            "--interval",
            "1s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let counters: Vec<_> = (0..POLLED).map(|i| sim.device(i).commands()).collect();
    let sent = || counters.iter().map(|c| *c.borrow()).sum::<u64>();
    let polled = || {
        (0..POLLED)
            .map(|i| sim.device(i).resource_reads())
            .sum::<u64>()
    };
    // One sweep left alone (enrolling the routers): the commands it takes.
    let before = sent();
    let out = run(poll(&["--once"]), data.to_path_buf()).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sweep = sent() - before;
    let mut points = Vec::new();
    for seed in 0..KILLS {
        let mut child = cli(&poll(&[]), data).spawn().unwrap();
        let wait = 1 + kill_after(seed, 3 * sweep);
        let from = sent();
        routeros_sim::wait::until_some("the kill point", routeros_sim::wait::DEADLINE, || {
            let reached = sent() >= from + wait || child.try_wait().unwrap().is_some();
            async move { reached.then_some(()) }
        })
        .await;
        assert!(
            child.try_wait().unwrap().is_none(),
            "seed {seed}: polling ended by itself"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        points.push(wait);
    }
    // A clean run, stopped as a service manager stops it.
    let child = cli(&poll(&[]), data).spawn().unwrap();
    let from = sent();
    routeros_sim::wait::until_some("two sweeps", routeros_sim::wait::DEADLINE, || {
        let reached = sent() >= from + 2 * sweep;
        async move { reached.then_some(()) }
    })
    .await;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(", 0 not stored"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = fleet_store::FleetStore::open(&url.parse().unwrap())
        .await
        .unwrap();
    let devices = store.list_devices().await.unwrap();
    assert_eq!(devices.len(), POLLED, "every router enrolled once");
    let mut stored = 0;
    for d in &devices {
        let n = store.count_checkins(&d.id).await.unwrap();
        let rows = store.checkins_of(&d.id, 0, i64::MAX).await.unwrap();
        let mut times: Vec<i64> = rows.iter().map(|k| k.checked_in_at).collect();
        times.dedup();
        assert_eq!(times.len() as u64, n, "no check-in twice");
        stored += n;
    }
    let polled = polled();
    assert!(
        stored <= polled,
        "stored {stored} of {polled} polled: none made up"
    );
    let lost = polled - stored;
    // The interval in flight at a kill: per router, the check-in waiting
    // for the writer's next flush (1 s, the poll interval) and the poll
    // under way. Three per router leaves room for a flush that came late.
    let bound = KILLS * POLLED as u64 * 3;
    eprintln!(
        "polling kills after {points:?} commands ({sweep} a sweep): {polled} polled, {stored} stored, {lost} lost ({:.1} a kill, {:.2} a router a kill; bound {bound})",
        lost as f64 / KILLS as f64,
        lost as f64 / (KILLS as f64 * POLLED as f64)
    );
    assert!(lost <= bound, "{lost} check-ins lost in {KILLS} kills");
    (polled, stored)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_killed_at_seeded_points_loses_at_most_the_interval_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/fleet.db", dir.path().display());
    let (polled, stored) = polling_killed_at_seeded_points(&url, dir.path()).await;
    assert!(stored > 0 && polled > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_into_mariadb_killed_at_seeded_points_loses_at_most_the_interval_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let (url, db) = mariadb("poll");
    let (polled, stored) = polling_killed_at_seeded_points(&url, dir.path()).await;
    assert!(stored > 0 && polled > 0);
    drop_mariadb(&db);
}
