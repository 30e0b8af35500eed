//! A RouterOS API simulator: many routers, each on its own loopback port.
//!
//! It speaks the real binary protocol (the same `routeros-proto` framing a
//! real router uses, checked against the Python `librouteros` client in the
//! test suite), so clients are tested over real TCP sockets. Values change
//! over time like a live router's: CPU load wanders, uptime and interface
//! byte counters grow.
//!
//! It binds only to 127.0.0.1.

mod device;
mod server;

pub use device::Device;
pub use server::{SimConfig, SimFleet};
