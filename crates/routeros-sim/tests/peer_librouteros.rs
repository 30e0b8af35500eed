//! The Python `librouteros` client, a real peer, against the simulator.
//!
//! The interpreter comes from `FLEETDECK_PEER_PYTHON`, else the virtualenv
//! the test script installs into `target/peer-venv`. A missing peer fails the
//! test: it is how we know the simulator speaks the protocol as real clients
//! expect.

use std::{path::PathBuf, process::Command};

use routeros_sim::{SimConfig, SimFleet};

fn peer_python() -> PathBuf {
    if let Some(p) = std::env::var_os("FLEETDECK_PEER_PYTHON") {
        return p.into();
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let python = target.join("peer-venv/bin/python");
    assert!(
        python.exists(),
        "librouteros peer not installed at {}: run scripts/test.sh (or python3 -m venv target/peer-venv && target/peer-venv/bin/pip install librouteros)",
        python.display()
    );
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librouteros_logs_in_and_reads_the_simulator() {
    let fleet = SimFleet::start(SimConfig {
        devices: 1,
        password: "p4ss word".into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peer/librouteros_peer.py");
    let port = fleet.port(0).to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(peer_python())
            .arg(script)
            .args([port.as_str(), "admin", "p4ss word"])
            .output()
            .expect("run the librouteros peer")
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "librouteros failed: {stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("peer prints JSON");
    let resource = &v["resource"][0];
    let load: u64 = resource["cpu-load"].as_u64().expect("cpu-load");
    assert!(load <= 100);
    assert_eq!(resource["version"], "7.16.2 (stable)");
    assert_eq!(v["identity"][0]["name"], "sim-router-0000");
    assert_eq!(v["interfaces"].as_array().unwrap().len(), 5);
    assert!(v["interfaces"][0]["rx-byte"].as_u64().unwrap() > 0);
    assert!(v["trap"]
        .as_str()
        .unwrap()
        .contains("no such command prefix"));
    assert!(v["bad_login"]
        .as_str()
        .unwrap()
        .contains("invalid user name or password"));
}
