//! `kill -9` of a CLI bulk push at seeded points, against simulated routers
//! that answer slowly enough that the kills land at every stage: before
//! the batch exists, mid-backup, mid-step, mid-confirm, after the end.
//! After each kill the technician resumes (or pushes again when nothing
//! was recorded), and then every router must be on the new configuration
//! with no safety net left armed, the batch finished and no push record
//! left running. The kills are spread over the time one push takes left
//! alone (counted by the simulated routers), in the same run.

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
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let url = format!("sqlite://{}/fleet.db", data.display());
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
