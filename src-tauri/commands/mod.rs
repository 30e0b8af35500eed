//! One module per domain; each command delegates to `fleet-core`.

pub mod devices;
pub mod store;
