//! A RouterOS API simulator: many routers, each on its own loopback port.
//!
//! It speaks the real binary protocol (the same `routeros-proto` framing a
//! real router uses, checked against the Python `librouteros` client in the
//! test suite), so clients are tested over real TCP sockets. Each router
//! has a version profile (login style, `!empty`, date format), a
//! configuration model that the API changes (`add`/`set`/`remove`, `print`
//! with queries, `listen` and `=follow=`), live values (CPU load, uptime,
//! interface counters, `monitor-traffic`), files, backups, reboots, a
//! clock that runs `/system scheduler` items, and injectable faults.
//!
//! It binds only to 127.0.0.1.

mod backup;
mod device;
mod export;
mod faults;
mod import;
mod mndp;
mod model;
mod profile;
mod scheduler;
mod server;
mod session;
mod tls;
pub mod wait;

pub use device::{Change, Device};
pub use export::{quote, ExportOptions};
pub use faults::Faults;
pub use mndp::announcement;
pub use model::Item;
pub use profile::{LoginStyle, Profile};
pub use scheduler::SchedulerRun;
pub use server::{SimConfig, SimFleet};

/// The Python interpreter with the test peers (`librouteros`,
/// `routeros-diff`): `FLEETDECK_PEER_PYTHON`, else the virtualenv the test
/// script installs into `target/peer-venv` (under `CARGO_TARGET_DIR` when
/// set, then the workspace's `target/`). A missing peer is a test failure,
/// not a skip: the peers are how we know we speak as real tools expect.
pub fn peer_python() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("FLEETDECK_PEER_PYTHON") {
        return p.into();
    }
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let candidates: Vec<std::path::PathBuf> = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain([root.join("target")])
        .map(|t| t.join("peer-venv/bin/python"))
        .collect();
    match candidates.iter().find(|p| p.exists()) {
        Some(python) => python.clone(),
        None => panic!(
            "Python test peers not installed at {}: run scripts/test.sh (or python3 -m venv target/peer-venv && target/peer-venv/bin/pip install librouteros==4.2.2 routeros-diff==0.5.3)",
            candidates[0].display()
        ),
    }
}
