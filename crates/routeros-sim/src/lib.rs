//! A RouterOS API simulator: many routers, each on its own loopback port.
//!
//! It speaks the real binary protocol (the same `routeros-proto` framing a
//! real router uses, checked against the Python `librouteros` client in the
//! test suite), so clients are tested over real TCP sockets. Each router
//! has a version profile (login style, `!empty`, date format), a
//! configuration model that the API changes (`add`/`set`/`remove`, `print`
//! with queries, `listen` and `=follow=`), live values (CPU load, uptime,
//! interface counters, `monitor-traffic`), files, backups, reboots, and
//! injectable faults.
//!
//! It binds only to 127.0.0.1.

mod device;
mod export;
mod faults;
mod import;
mod mndp;
mod model;
mod profile;
mod server;
mod session;
mod tls;

pub use device::{Change, Device};
pub use export::quote;
pub use faults::Faults;
pub use mndp::announcement;
pub use model::Item;
pub use profile::{LoginStyle, Profile};
pub use server::{SimConfig, SimFleet};
