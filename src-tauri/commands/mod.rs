//! One module per domain; each command delegates to `fleet-core`.

pub mod configs;
pub mod dashboard;
pub mod demo;
pub mod devices;
pub mod polling;
pub mod provision;
pub mod settings;
pub mod store;
pub mod sync;
pub mod templates;
