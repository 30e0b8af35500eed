//! Fleetdeck's domain, shared by the desktop app and the CLI.
//!
//! [`Fleet`] ties the inventory and check-ins in the [`fleet_store`] to the
//! routers reached through the [`routeros`] client, keeps passwords in the
//! [`credentials`] store (the OS keyring, or a 0600 file where none exists)
//! and renders charts with `plotters`. Nothing here knows about Tauri.

pub mod backup_schedule;
mod batch_lock;
pub mod bound;
pub mod bulk;
pub mod chart;
pub mod compliance;
pub mod configs;
pub mod credentials;
pub mod dashboard;
pub mod demo;
pub mod diagnostics;
pub mod discover;
mod error;
mod fleet;
pub mod history;
pub mod interrupted;
pub mod live;
pub mod monitoring;
pub mod monitors;
pub mod plan;
pub mod poll;
pub mod preview;
pub mod provision;
pub mod push;
pub mod reach;
pub mod restore;
pub mod routers;
pub mod sealed;
pub mod sensitive;
pub mod settings;
pub mod shared;
pub mod sweep;
pub mod targets;
pub mod telemetry;
pub mod template;
pub mod template_check;

pub use error::{sentence, ErrorKind, FleetError};
pub use fleet::{AddDevice, CredentialStatus, DeviceCharts, Fleet, ImportReport, InventoryTargets};
pub use fleet_store::{self, Checkin, Device, FleetStore, StoreUrl};
pub use routeros_proto::value::Codepage;
